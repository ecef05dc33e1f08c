"""Forms of the inbox: each wrong field gets its message beside it."""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from madoguchi.mail import Address

MAX_RECIPIENTS = 50


class AddressListField(forms.CharField):
    """Comma-separated addresses ("Name <a@b>, c@d") → list of Address."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(a) for a in value)
        return value

    def to_python(self, value: Any) -> list[Address]:  # type: ignore[override]
        text = super().to_python(value) or ""
        result = []
        for name, email in getaddresses([text]):
            if not email:
                continue
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError(_("Not a mail address: %(a)s"), params={"a": email}) from None
            result.append(Address(name, email))
        if len(result) > MAX_RECIPIENTS:
            raise ValidationError(_("At most %(n)d recipients."), params={"n": MAX_RECIPIENTS})
        return result


class ReplyForm(forms.Form):
    to = AddressListField(label=_("To"))
    cc = AddressListField(label=_("Cc"), required=False)
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 8}), max_length=200_000
    )
    then = forms.ChoiceField(
        choices=[
            ("send", _("Send")),
            ("done", _("Send and mark done")),
            ("hold", _("Send and hold")),
        ],
        initial="send",
    )

    def clean_to(self) -> list[Address]:
        value: list[Address] = self.cleaned_data["to"]
        if not value:
            raise ValidationError(_("Give at least one recipient."))
        return value
