"""Every write to mailboxes goes through here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from madoguchi.accounts import audit
from madoguchi.accounts.models import AuditAction
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.mailboxes.models import Mailbox

EDITABLE = {
    "name",
    "signature",
    "assign_on_reply",
    "replies_need_approval",
    "max_message_bytes",
    "imap_host",
    "imap_port",
    "imap_user",
    "imap_password",
    "imap_security",
    "imap_folder",
    "imap_after_fetch",
    "imap_move_to",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_password",
    "smtp_security",
    "sender_format",
    "outbound_charset",
    "undo_seconds",
    "person_senders",
}


def create_mailbox(address: str, *, actor_id: int | None = None, **fields: Any) -> Mailbox:
    """Create a mailbox; raises ``ValidationError`` naming the bad field."""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"address": f"not a valid mail address: {address!r}"}) from None
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"unknown mailbox fields: {', '.join(sorted(unknown))}")
    mailbox = Mailbox(address=address.lower(), **fields)
    mailbox.full_clean()
    with transaction.atomic():
        mailbox.save()
        events.record(
            EventType.MAILBOX_CREATED,
            mailbox_id=mailbox.pk,
            actor_id=actor_id,
            address=mailbox.address,
        )
        audit.record(AuditAction.MAILBOX_CREATED, actor=actor_id, target=mailbox.address)
    return mailbox


def update_mailbox(mailbox: Mailbox, *, actor_id: int | None = None, **fields: Any) -> Mailbox:
    """Change settings; the event names the changed fields, never their (secret) values."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"unknown mailbox fields: {', '.join(sorted(unknown))}")
    stored = Mailbox.objects.filter(pk=mailbox.pk).first()
    changed = sorted(n for n, v in fields.items() if stored is None or getattr(stored, n) != v)
    for name, value in fields.items():
        setattr(mailbox, name, value)
    mailbox.full_clean()
    with transaction.atomic():
        mailbox.save()
        if changed:
            events.record(
                EventType.MAILBOX_UPDATED, mailbox_id=mailbox.pk, actor_id=actor_id, fields=changed
            )
            audit.record(AuditAction.MAILBOX_SETTINGS, actor=actor_id, target=mailbox.address,
                         fields=changed)  # fmt: skip
    return mailbox


def add_person_sender(mailbox: Mailbox, entry: str, *, actor_id: int | None) -> bool:
    """Always treat mail from ``entry`` (an address or a domain) as a person's.

    Returns False when it was on the list already. Caller holds a transaction.
    """
    entry = entry.strip().lower()
    if not entry or entry in mailbox.person_sender_list:
        return False
    mailbox.person_senders = "\n".join([*mailbox.person_sender_list, entry])
    Mailbox.objects.filter(pk=mailbox.pk).update(person_senders=mailbox.person_senders)
    events.record(
        EventType.MAILBOX_PERSON_SENDER_ADDED, mailbox_id=mailbox.pk, actor_id=actor_id, entry=entry
    )
    audit.record(AuditAction.MAILBOX_SETTINGS, actor=actor_id, target=mailbox.address,
                 fields=["person_senders"], added=entry)  # fmt: skip
    return True
