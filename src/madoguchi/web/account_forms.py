"""The agent's own preferences, and the team page's invitations and roles."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Agent, Role
from madoguchi.core.params import ModelIdsField
from madoguchi.mailboxes.models import Mailbox


@lru_cache(maxsize=1)
def time_zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.ModelForm):  # type: ignore[type-arg]
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As the browser says")), *settings.LANGUAGES],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zones)
    email = forms.EmailField(label=_("Your mail address"), required=False)
    field_order = ["display_name", "language", "time_zone", "email", "notify_by_mail"]

    class Meta:
        model = Agent
        fields = ["display_name", "language", "time_zone", "notify_by_mail"]
        labels = {
            "display_name": _("Your name as the team and customers see it"),
            "notify_by_mail": _("Also send me my notifications by mail"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.user.email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("notify_by_mail") and not data.get("email"):
            self.add_error("email", _("Notification mail needs your mail address."))
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)
    mailboxes = ModelIdsField(
        label=_("Mailboxes"),
        queryset=Mailbox.objects.order_by("address"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("Someone in the team has this address already."))
        return email


class AcceptForm(forms.Form):
    """The invited person picks a user name and a password."""

    username = forms.CharField(
        label=_("User name"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    display_name = forms.CharField(
        label=_("Your name as the team and customers see it"), max_length=150
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    password_again = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def clean_username(self) -> str:
        name = str(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=name).exists():
            raise ValidationError(_("This user name is taken."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        elif password:
            try:
                validate_password(password, User(username=data.get("username", "")))
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class MemberForm(forms.Form):
    """Role and access of one agent, on the team page."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    active = forms.BooleanField(label=_("May sign in"), required=False)
