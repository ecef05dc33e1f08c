"""Forms of the inbox: each wrong field gets its message beside it."""

from __future__ import annotations

from email.utils import getaddresses
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from madoguchi.conversations.queries import Marks
from madoguchi.core.params import parse_id
from madoguchi.mail import Address
from madoguchi.mail.compose import OutAttachment
from madoguchi.mail.header_values import UnsafeAddress, mail_address, one_line
from madoguchi.mail.rich import clean_rich, rich_to_text
from madoguchi.reply_templates import queries as reply_templates
from madoguchi.reply_templates.models import TemplateAttachment

MAX_RECIPIENTS = 50
#: At most this many templates, and files of templates, in one mail.
MAX_TEMPLATES = 20
MAX_TEMPLATE_FILES = 50
#: The furthest a "remind me if no answer" may look ahead, in business days.
MAX_FOLLOW_UP_DAYS = 60


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
                spec = mail_address(email)  # what compose.build accepts, IDNA domain
            except (ValidationError, UnsafeAddress):
                raise ValidationError(_("Not a mail address: %(a)s"), params={"a": email}) from None
            result.append(Address(one_line(name, limit=200), spec))
        if len(result) > MAX_RECIPIENTS:
            raise ValidationError(_("At most %(n)d recipients."), params={"n": MAX_RECIPIENTS})
        return result


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Several files from one ``<input type=file multiple>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        one = super().clean
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [one(item, initial) for item in items]


class ChosenIdsField(forms.Field):
    """Ids the composer's script put in hidden fields (templates inserted, their files)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.limit = limit

    def to_python(self, value: Any) -> list[int]:
        return ids_of(value, limit=self.limit)


def ids_of(value: Any, *, limit: int) -> list[int]:
    """Distinct ids, in order; ``ValidationError`` for anything else or too many."""
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    ids = [parse_id(str(v)) for v in values]
    if None in ids or len(ids) > limit:
        raise ValidationError(_("Insert templates from the list."))
    return list(dict.fromkeys(i for i in ids if i is not None))


class DaysField(forms.IntegerField):
    """A whole number of days typed in ASCII digits (``int`` would also read "١")."""

    def to_python(self, value: Any) -> int | None:
        text = str(value).strip() if value is not None else ""
        if text and not (text.isascii() and text.isdigit()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


class ComposeForm(forms.Form):
    """What every outgoing mail has: recipients, text (plain or simple rich text), files.

    ``max_bytes`` is the mailbox's limit for the files together; the browser checks it
    before uploading (``compose.js``), and this form checks it again.
    """

    to = AddressListField(
        label=_("To"), error_messages={"required": _("Give at least one recipient.")}
    )
    cc = AddressListField(label=_("Cc"), required=False)
    text = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=200_000,
        required=False,
    )
    html = forms.CharField(widget=forms.HiddenInput, required=False, max_length=400_000)
    attachments = FilesField(label=_("Attach files"))
    #: The templates inserted (their use is counted once the mail is queued) and the files
    #: of templates kept in the mail; the server checks both against the mailbox.
    templates = ChosenIdsField(limit=MAX_TEMPLATES)
    template_files = ChosenIdsField(limit=MAX_TEMPLATE_FILES)
    text_required = True  # a forward may go without a word of its own

    def __init__(
        self,
        *args: Any,
        max_bytes: int = 25 * 1024 * 1024,
        mailbox_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.mailbox_id = mailbox_id
        self.fields["attachments"].widget.attrs["data-max-bytes"] = str(max_bytes)

    def clean_to(self) -> list[Address]:
        value: list[Address] = self.cleaned_data["to"]
        if not value:
            raise ValidationError(_("Give at least one recipient."))
        return value

    def clean_html(self) -> str:
        return clean_rich(self.cleaned_data.get("html") or "")

    def clean_attachments(self) -> list[UploadedFile[Any]]:
        files: list[UploadedFile[Any]] = self.cleaned_data["attachments"]
        total = sum(f.size or 0 for f in files)
        if total > self.max_bytes:
            raise ValidationError(
                _("The files are %(size)s MB together; this mailbox sends at most %(max)s MB."),
                params={"size": _megabytes(total), "max": _megabytes(self.max_bytes)},
            )
        return files

    def clean_templates(self) -> list[int]:
        """The inserted templates usable from this mailbox (others are not counted)."""
        ids: list[int] = self.cleaned_data["templates"]
        if self.mailbox_id is None:
            return []
        return reply_templates.usable_ids(ids, mailbox_id=self.mailbox_id)

    def clean_template_files(self) -> list[TemplateAttachment]:
        """The templates' files, each of a template usable from this mailbox; one that is
        not (deleted meanwhile, or never one of these) is refused, not silently left out."""
        ids: list[int] = self.cleaned_data["template_files"]
        if not ids or self.mailbox_id is None:
            return []
        chosen = reply_templates.chosen_attachments(ids, mailbox_id=self.mailbox_id)
        if chosen.missing:
            raise ValidationError(
                _("A file of a template is no longer available and was taken off the reply. "
                  "Check it and send again."),
            )  # fmt: skip
        return chosen.found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("html"):
            data["text"] = rich_to_text(data["html"])
        elif self.text_required and not (data.get("text") or "").strip():
            self.add_error("text", _("Write something first."))
        self._check_total(data)
        return data

    def _check_total(self, data: dict[str, Any]) -> None:
        """The uploaded files and the templates' files together within the mailbox's limit."""
        uploaded = sum(f.size or 0 for f in data.get("attachments") or [])
        kept = sum(a.size for a in data.get("template_files") or [])
        if kept and uploaded + kept > self.max_bytes:
            self.add_error("attachments", ValidationError(
                _("The files are %(size)s MB together; this mailbox sends at most %(max)s MB."),
                params={"size": _megabytes(uploaded + kept), "max": _megabytes(self.max_bytes)},
            ))  # fmt: skip

    def chosen_template_files(self) -> list[TemplateAttachment]:
        """The templates' files to show in the composer of a form sent back (400, 409)."""
        if not self.is_bound or self.mailbox_id is None:
            return []
        if "template_files" in getattr(self, "cleaned_data", {}):
            files: list[TemplateAttachment] = self.cleaned_data["template_files"]
            return files
        try:
            ids = ids_of(self._raw("template_files"), limit=MAX_TEMPLATE_FILES)
        except ValidationError:
            return []
        return reply_templates.chosen_attachments(ids, mailbox_id=self.mailbox_id).found

    def chosen_templates(self) -> list[int]:
        """The inserted templates of a form sent back, to count them when it is sent."""
        if not self.is_bound:
            return []
        try:
            return ids_of(self._raw("templates"), limit=MAX_TEMPLATES)
        except ValidationError:
            return []

    def _raw(self, name: str) -> list[Any]:
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            return list(getlist(name))
        value = self.data.get(name)
        return list(value) if isinstance(value, list | tuple) else [value] if value else []

    def files_out(self) -> list[OutAttachment]:
        uploaded = [
            OutAttachment(f.name or "file", f.content_type or "application/octet-stream", f.read())
            for f in self.cleaned_data["attachments"]
        ]
        return uploaded + reply_templates.files_of(self.cleaned_data.get("template_files", []))


class ReplyForm(ComposeForm):
    then = forms.ChoiceField(
        choices=[
            ("send", _("Send")),
            ("done", _("Send and mark done")),
            ("hold", _("Send and hold")),
        ],
        initial="send",
    )
    # the send guard: the newest message and note the author had seen (queries.Marks)
    seen_message = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    seen_note = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    #: "Remind me if no answer in N business days" (blank: no reminder).
    follow_up_days = DaysField(
        label=_("Remind me if no answer in"),
        min_value=1,
        max_value=MAX_FOLLOW_UP_DAYS,
        required=False,
        widget=forms.NumberInput(attrs={"size": 3, "class": "follow-up-days"}),
        help_text=_("business days (blank: no reminder)"),
    )

    def seen(self) -> Marks | None:
        message, note = self.cleaned_data.get("seen_message"), self.cleaned_data.get("seen_note")
        if message is None or note is None:
            return None  # an old page without marks: no guard rather than a refusal
        return Marks(message, note)


class ForwardForm(ComposeForm):
    with_attachments = forms.BooleanField(
        label=_("Include the original's attachments"), required=False, initial=True
    )
    text_required = False


class NewConversationForm(ComposeForm):
    subject = forms.CharField(label=_("Subject"), max_length=998)

    def clean_subject(self) -> str:
        """One line: a line break typed or pasted into the subject becomes a space."""
        subject = one_line(self.cleaned_data["subject"])
        if not subject:
            raise ValidationError(self.fields["subject"].error_messages["required"])
        return subject

    field_order = ["to", "cc", "subject", "text", "html", "attachments"]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20_000,
        help_text=_("Only your team sees notes."),
    )


def clean_tag_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationError(_("Give the tag a name."))
    if len(name) > 64:
        raise ValidationError(_("A tag has at most 64 characters."))
    if "," in name:
        raise ValidationError(_("A tag cannot contain a comma."))
    return name


class TagForm(forms.Form):
    tag = forms.CharField(label=_("Add a tag"), max_length=200)

    def clean_tag(self) -> str:
        return clean_tag_name(self.cleaned_data["tag"])


class IdListField(forms.Field):
    """Several ``name=<int>`` values (checked rows)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Choose at least one conversation.")}

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids = [parse_id(str(v)) for v in values]
        if None in ids:
            raise ValidationError(_("Choose conversations from the list."))
        return list(dict.fromkeys(i for i in ids if i is not None))


class BulkForm(forms.Form):
    """Changes to many conversations at once; each is checked on its own in the view."""

    ids = IdListField()
    assignee = forms.CharField(required=False)  # "", "me", "none" or a user id
    status = forms.ChoiceField(required=False, choices=[])
    tag = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", ""), *((s, s) for s in statuses)]  # type: ignore[attr-defined]

    def clean_ids(self) -> list[int]:
        ids: list[int] = self.cleaned_data["ids"]
        if len(ids) > 200:
            raise ValidationError(_("Choose at most 200 conversations at once."))
        return ids

    def clean_assignee(self) -> str:
        value: str = self.cleaned_data["assignee"]
        if value not in ("", "me", "none") and parse_id(value) is None:
            raise ValidationError(_("Choose someone from the list."))
        return value

    def clean_tag(self) -> str:
        value: str = self.cleaned_data["tag"]
        return clean_tag_name(value) if value.strip() else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("assignee") or data.get("status") or data.get("tag")):
            raise ValidationError(_("Choose what to change."))
        return data
