"""Every state change of conversations and messages. Each call records its Event.

Callers hold a transaction (``receive_message`` is called from ``mail_in.actions.ingest``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from madoguchi.conversations.contacts import contact_for
from madoguchi.conversations.models import (
    Attachment,
    Conversation,
    Direction,
    Message,
    MessageRef,
    Status,
    ThreadRule,
)
from madoguchi.core import blobs, events
from madoguchi.mail import ParsedMail
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mail_in.models import RawMessage

MAX_REFS = 30


def _clip(value: str, size: int) -> str:
    return value[:size]


def _snippet(parsed: ParsedMail) -> str:
    for line in (parsed.reply_text or parsed.text).splitlines():
        if line.strip():
            return _clip(line.strip(), 200)
    return ""


def start_conversation(mailbox: Mailbox, parsed: ParsedMail, *, at: datetime) -> Conversation:
    sender = parsed.sender
    contact = contact_for(sender.email, sender.name) if sender else None
    conv = Conversation.objects.create(
        mailbox=mailbox,
        contact=contact,
        subject=_clip(parsed.subject, 998),
        kind=parsed.kind,
        last_activity_at=at,
    )
    events.record("conversation.created", mailbox_id=mailbox.pk, conversation_id=conv.pk)
    return conv


def receive_message(
    mailbox: Mailbox,
    parsed: ParsedMail,
    *,
    raw: RawMessage,
    conversation: Conversation | None,
    rule: ThreadRule,
    dedupe_key: str,
) -> Message:
    """Store an inbound mail in ``conversation`` (a new one when None) and update its state."""
    now = timezone.now()
    if conversation is None:
        conversation = start_conversation(mailbox, parsed, at=now)
    message = Message.objects.create(
        mailbox=mailbox,
        conversation=conversation,
        raw=raw,
        direction=Direction.IN,
        dedupe_key=_clip(dedupe_key, 512),
        message_id=_clip(parsed.message_id or "", 512),
        in_reply_to=_clip(parsed.in_reply_to or "", 512),
        subject=_clip(parsed.subject, 998),
        from_name=_clip(parsed.sender.name if parsed.sender else "", 255),
        from_email=_clip(parsed.sender.email if parsed.sender else "", 320),
        to=[[a.name, a.email] for a in parsed.to],
        cc=[[a.name, a.email] for a in parsed.cc],
        reply_to=[[a.name, a.email] for a in parsed.reply_to],
        date=parsed.date,
        received_at=now,
        text=parsed.text,
        html=parsed.html or "",
        reply_text=parsed.reply_text,
        kind=parsed.kind,
        thread_rule=rule,
        defects=[[d.where, d.problem, d.repair] for d in parsed.defects],
    )
    _store_refs(message, parsed)
    _store_attachments(message, parsed)
    _update_on_inbound(conversation, parsed, at=now)
    events.record(
        "message.received",
        mailbox_id=mailbox.pk,
        conversation_id=conversation.pk,
        message=message.pk,
        rule=rule,
        kind=parsed.kind,
    )
    return message


def _store_refs(message: Message, parsed: ParsedMail) -> None:
    ids = list(dict.fromkeys([*parsed.references[-MAX_REFS:], parsed.in_reply_to or ""]))
    MessageRef.objects.bulk_create(
        MessageRef(message=message, mailbox_id=message.mailbox_id, ref=_clip(ref, 512))
        for ref in ids
        if ref
    )


def _store_attachments(message: Message, parsed: ParsedMail) -> None:
    rows = []
    for att in parsed.attachments:
        blobs.store(att.sha256, att.data)
        rows.append(
            Attachment(
                message=message,
                filename=_clip(att.filename or "attachment", 255),
                content_type=_clip(att.content_type, 255),
                size=att.size,
                sha256=att.sha256,
                content_id=_clip(att.content_id or "", 255),
                inline=att.inline,
            )
        )
    Attachment.objects.bulk_create(rows)


def _update_on_inbound(conv: Conversation, parsed: ParsedMail, *, at: datetime) -> None:
    """A customer's mail makes the conversation active again (PRODUCT.md: reopen done/hold)."""
    fields = {"last_activity_at": at, "snippet": _snippet(parsed)}
    if conv.waiting_since is None:
        fields["waiting_since"] = at
    if conv.status in (Status.DONE, Status.HOLD) and conv.message_count > 0:
        fields["status"] = Status.OPEN if conv.assignee_id else Status.NEW
        events.record(
            "conversation.status",
            mailbox_id=conv.mailbox_id,
            conversation_id=conv.pk,
            before=conv.status,
            after=fields["status"],
            reason="customer replied",
        )
    Conversation.objects.filter(pk=conv.pk).update(message_count=F("message_count") + 1, **fields)
    for name, value in fields.items():
        setattr(conv, name, value)
    conv.message_count += 1


def merge_into(target: Conversation, sources: Iterable[int], *, parent_id: str) -> None:
    """Move the messages of conversations started by early replies into ``target``.

    Used when a mail arrives after replies to it had started conversations of their own.
    """
    for source in Conversation.objects.filter(pk__in=list(sources)).exclude(pk=target.pk):
        moved = Message.objects.filter(conversation=source)
        count = moved.count()
        moved.filter(in_reply_to=parent_id).update(
            conversation=target, thread_rule=ThreadRule.IN_REPLY_TO
        )
        moved.update(conversation=target, thread_rule=ThreadRule.REFERENCES)
        source.events.update(conversation=target)
        Conversation.objects.filter(pk=target.pk).update(
            message_count=F("message_count") + count
        )
        events.record(
            "conversation.merged",
            mailbox_id=target.mailbox_id,
            conversation_id=target.pk,
            merged=source.pk,
            messages=count,
        )
        source.delete()
