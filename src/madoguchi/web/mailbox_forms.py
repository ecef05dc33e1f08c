"""The mailbox settings form of the admin pages."""

from __future__ import annotations

import copy
import re
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Role
from madoguchi.core.crypto import is_lost
from madoguchi.core.params import ModelIdsField
from madoguchi.mailboxes.models import AfterFetch, Mailbox

MB = 1024 * 1024
SECRET_FIELDS = ("imap_password", "smtp_password")
#: One line of the "always a person" list: an address, ``@domain`` or ``domain``.
_SENDER_ENTRY = re.compile(r"([^@\s]{1,64}@|@)?[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+")
#: Form sections, in order: (key, legend, fields). The template lays the form out by
#: these; the sections keyed "imap" and "smtp" carry their "test connection" button.
SECTIONS: list[tuple[str, Any, list[str]]] = [
    ("address", _("Address"), ["address", "name", "signature"]),
    ("outgoing", _("Outgoing mail"),
     ["sender_format", "outbound_charset", "undo_seconds", "max_message_mb"]),
    ("together", _("Working together"),
     ["assign_on_reply", "replies_need_approval", "approval_members"]),
    ("sorting", _("Sorting"), ["person_senders"]),
    ("imap", _("Receiving (IMAP)"), [
        "imap_host", "imap_port", "imap_security", "imap_user", "imap_password",
        "imap_folder", "imap_after_fetch", "imap_move_to",
    ]),
    ("smtp", _("Sending server (SMTP)"), [
        "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password",
    ]),
    ("members", _("Members"), ["members"]),
]  # fmt: skip


class MailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    """Create or edit a mailbox. Stored passwords are never sent back to the browser: an
    empty password field keeps the one stored."""

    max_message_mb = forms.IntegerField(
        label=_("Largest mail or attachment (MB)"), min_value=1, max_value=1024, initial=50
    )
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    members = ModelIdsField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members see this mailbox and work in it. Admins see every mailbox."),
    )
    approval_members = ModelIdsField(
        label=_("Members whose replies need approval"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A manager of this mailbox approves their replies before they leave. Only agents "
            "are listed: the replies of managers and admins are never held."
        ),
    )

    class Meta:
        model = Mailbox
        fields = [
            "address", "name", "signature", "sender_format", "outbound_charset", "undo_seconds",
            "assign_on_reply", "replies_need_approval", "person_senders",
            "imap_host", "imap_port", "imap_security", "imap_user", "imap_folder",
            "imap_after_fetch", "imap_move_to",
            "smtp_host", "smtp_port", "smtp_security", "smtp_user",
        ]  # fmt: skip
        labels = {
            "address": _("Shared address"),
            "name": _("Display name"),
            "signature": _("Signature"),
            "sender_format": _("Sender name"),
            "outbound_charset": _("Character set of outgoing mail"),
            "undo_seconds": _("Seconds to undo a sent reply"),
            "assign_on_reply": _("Beginning a reply on an unassigned conversation assigns it"),
            "replies_need_approval": _("Every agent's reply needs a manager's approval"),
            "person_senders": _("Senders whose mail is always a person's"),
            "imap_host": _("IMAP host"),
            "imap_port": _("IMAP port"),
            "imap_security": _("IMAP security"),
            "imap_user": _("IMAP user"),
            "imap_folder": _("Folder"),
            "imap_after_fetch": _("After fetching"),
            "imap_move_to": _("Move to folder"),
            "smtp_host": _("SMTP host"),
            "smtp_port": _("SMTP port"),
            "smtp_security": _("SMTP security"),
            "smtp_user": _("SMTP user"),
        }
        help_texts = {
            "sender_format": _(
                "How replies name their sender: {agent} is the agent, {mailbox} this mailbox."
            ),
            "outbound_charset": _(
                "ISO-2022-JP for customers whose old mail programs need it; "
                "text it cannot carry still goes out as UTF-8."
            ),
            "person_senders": _(
                "One address (sato@example.jp) or domain (@example.jp) a line. Their mail always "
                "stays in New, even when it looks automated."
            ),
            "imap_port": _("Empty: 993 with SSL/TLS, 143 otherwise."),
            "smtp_port": _("Empty: 465 with SSL/TLS, 587 otherwise."),
        }
        widgets = {
            "signature": forms.Textarea(attrs={"rows": 4}),
            "person_senders": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {"address": {"unique": _("A mailbox with this address exists already.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True).select_related("agent").order_by("username")
        )
        self.fields["approval_members"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(is_active=True, agent__role=Role.AGENT)
            .select_related("agent")
            .order_by("username")
        )
        for name in ("members", "approval_members"):
            self.fields[name].label_from_instance = (  # type: ignore[attr-defined]
                lambda user: (
                    f"{user.agent.name} ({user.username})"
                    if hasattr(user, "agent")
                    else user.username
                )
            )
        if self.instance.pk:
            self.fields["address"].disabled = True  # replies and threading depend on it
            self.fields["address"].help_text = _("The address cannot change once mail arrived.")
            self.initial["max_message_mb"] = max(1, self.instance.max_message_bytes // MB)
            self.initial["members"] = list(
                self.instance.memberships.values_list("user_id", flat=True)
            )
            self.initial["approval_members"] = list(
                self.instance.memberships.filter(needs_approval=True).values_list(
                    "user_id", flat=True
                )
            )
            for name in SECRET_FIELDS:
                if is_lost(getattr(self.instance, name)):
                    self.fields[name].help_text = _(
                        "Saved with another secret key and no longer readable: type it again."
                    )
                elif getattr(self.instance, name):
                    self.fields[name].help_text = _("Stored. Leave empty to keep it.")

    def clean_address(self) -> str:
        return str(self.cleaned_data["address"]).strip().lower()

    def clean_sender_format(self) -> str:
        value = str(self.cleaned_data["sender_format"])
        rest = value.replace("{agent}", "").replace("{mailbox}", "")
        if "{" in rest or "}" in rest:
            raise ValidationError(_("Only {agent} and {mailbox} may stand in braces."))
        if "{agent}" not in value:
            raise ValidationError(_("Put {agent} in it, so customers see who answered."))
        return value

    def clean_person_senders(self) -> str:
        lines = [x.strip().lower() for x in str(self.cleaned_data["person_senders"]).splitlines()]
        entries = list(dict.fromkeys(x for x in lines if x))
        bad = [x for x in entries if not _SENDER_ENTRY.fullmatch(x)]
        if bad:
            raise ValidationError(
                _("Not an address or a domain: %(entries)s"), params={"entries": ", ".join(bad)}
            )
        if len(entries) > 1000:
            raise ValidationError(_("At most 1,000 lines."))
        return "\n".join(entries)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("imap_after_fetch") == AfterFetch.MOVE and not data.get("imap_move_to"):
            self.add_error("imap_move_to", _("Name the folder to move fetched mail to."))
        for port in ("imap_port", "smtp_port"):
            value = data.get(port)
            if value is not None and not 1 <= value <= 65535:
                self.add_error(port, _("A port is a number from 1 to 65535."))
        return data

    def settings(self) -> dict[str, Any]:
        """The mailbox fields to store; empty password fields keep what is stored."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name != "address"}
        data["max_message_bytes"] = self.cleaned_data["max_message_mb"] * MB
        for name in SECRET_FIELDS:
            if self.cleaned_data[name]:
                data[name] = self.cleaned_data[name]
        return data

    def trial(self) -> Mailbox:
        """An unsaved copy of the mailbox with the form's values, for "test connection"."""
        mailbox: Mailbox = copy.copy(self.instance)  # validation put the typed fields on it
        for name, value in self.settings().items():
            setattr(mailbox, name, value)
        return mailbox
