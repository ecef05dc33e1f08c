"""Replies: queue in the durable outbox, take back within the undo window, deliver.

``queue_reply`` writes the Message, its composed bytes (Outbox) and the events in one
transaction and schedules delivery after the mailbox's undo window. ``deliver`` sends with
retries and backoff; a permanent failure keeps the server's answer on the conversation.
A crash after the server accepted a mail but before it was marked sent sends it again on
restart with the same Message-ID (at-least-once), never zero times.
"""

from __future__ import annotations

import email
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime, formataddr
from functools import partial
from html import escape

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madoguchi.accounts.models import Agent, Membership, Role
from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import (
    Attachment,
    Conversation,
    Direction,
    Message,
    Note,
    Status,
    ThreadRule,
)
from madoguchi.conversations.queries import Marks, changes_since, reply_source
from madoguchi.core import blobs, events
from madoguchi.mail import Address
from madoguchi.mail import header_values as safe
from madoguchi.mail.compose import OutAttachment, Outgoing, build
from madoguchi.mail.tokens import make_message_id
from madoguchi.mail_out import drafts, smtp
from madoguchi.mail_out.models import Outbox, OutboxStatus
from madoguchi.mailboxes.models import Mailbox
from madoguchi.notifications.actions import notify
from madoguchi.notifications.models import Kind

MAX_ATTEMPTS = 8
#: Replies that did not (and will not, as they are) reach the customer.
UNSENT = (OutboxStatus.CANCELLED, OutboxStatus.AWAITING, OutboxStatus.RETURNED)
MAX_REFERENCES = 20


_PLACEHOLDER = re.compile(r"\{(agent|mailbox)\}")


def fill_sender_format(template: str, agent: str, mailbox: str) -> str:
    """``{agent} ({mailbox})`` filled in one pass. Not ``str.format``: an admin's template
    with ``{agent:>999999999}`` would build a gigabyte, and a name that contains
    ``{mailbox}`` must not be filled in again."""
    values = {"agent": agent, "mailbox": mailbox}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template[:200])


def sender_for(mailbox: Mailbox, author: User) -> Address:
    """The From of mail ``author`` writes from ``mailbox``: "Sato (Support)" <support@…>."""
    agent = Agent.objects.filter(user=author).first()
    name = agent.name if agent else author.get_username()
    display = (
        fill_sender_format(mailbox.sender_format, name, mailbox.name) if mailbox.name else name
    )
    return Address(safe.one_line(display, limit=200), mailbox.address)


def _last_inbound(conv: Conversation) -> Message | None:
    return conv.messages.filter(direction=Direction.IN).order_by("-pk").first()


def reply_recipients(conv: Conversation, *, reply_all: bool) -> tuple[list[Address], list[Address]]:
    """To and Cc for a reply to the newest inbound mail of a participant (Reply-To wins
    over From): a newcomer's mail never picks them (``conversations.participants``)."""
    last = reply_source(conv)
    if last is None:
        return [], []
    to = [Address(n, e) for n, e in last.reply_to] or [Address(last.from_name, last.from_email)]
    if not reply_all:
        return to, []
    ours = {conv.mailbox.address.lower(), *(a.email.lower() for a in to)}
    cc = [Address(n, e) for n, e in [*last.to, *last.cc] if e.lower() not in ours]
    return to, list({a.email.lower(): a for a in cc}.values())


class Stale(Exception):
    """Refused by the send guard: the conversation changed after the reply was begun."""

    def __init__(self, changes: list[Message | Note]) -> None:
        super().__init__(f"{len(changes)} new item(s) since the reply was begun")
        self.changes = changes


@dataclass(frozen=True)
class Content:
    """What the agent wrote: plain text, optionally sanitized HTML, and files."""

    text: str
    html: str = ""
    attachments: list[OutAttachment] = field(default_factory=list)


def queue_reply(
    conv: Conversation,
    *,
    author: User,
    text: str,
    to: list[Address],
    cc: list[Address] | None = None,
    then: Status | None = None,
    html: str = "",
    attachments: list[OutAttachment] | None = None,
    seen: Marks | None = None,
) -> Message:
    """Queue a reply from the shared address; the caller checked ``author`` may reply.

    ``seen`` is the conversation as the author saw it when they began: if a message or a
    note came after it, nothing is queued and ``Stale`` says what came. The check and the
    write happen under a lock on the conversation, so of two replies begun on the same
    state and sent at once exactly one is queued.
    """
    last = _last_inbound(conv)
    subject = (
        conv.subject if conv.subject.lower().startswith(("re:", "re：")) else f"Re: {conv.subject}"
    )
    return _queue(
        conv, author=author, subject=subject, to=to, cc=cc or [], then=then,
        content=Content(text, html, attachments or []), seen=seen,
        in_reply_to=last.message_id if last else "", references=_references(last),
    )  # fmt: skip


def queue_forward(
    conv: Conversation,
    *,
    author: User,
    source: Message,
    text: str,
    to: list[Address],
    cc: list[Address] | None = None,
    with_attachments: bool = True,
    attachments: list[OutAttachment] | None = None,
) -> Message:
    """Forward ``source`` (a message of ``conv``) to someone, e.g. a colleague elsewhere.

    It stays in the conversation and carries our signed Message-ID, so their answer
    threads back here.
    """
    subject = source.subject or conv.subject
    if not subject.lower().startswith(("fwd:", "fw:")):
        subject = f"Fwd: {subject}"
    header = "\n".join(
        [
            "---------- Forwarded message ----------",
            f"From: {_named(source.from_name, source.from_email)}",
            f"Date: {format_datetime(source.date or source.received_at)}",
            f"Subject: {source.subject}",
            f"To: {', '.join(_named(n, e) for n, e in source.to)}",
        ]
    )
    body = f"{text.rstrip()}\n\n{header}\n\n{source.text}"
    files = list(attachments or [])
    if with_attachments:
        files += [
            OutAttachment(a.filename, a.content_type, blobs.read(a.sha256))
            for a in source.attachments.filter(inline=False)
        ]
    return _queue(
        conv, author=author, subject=subject, to=to, cc=cc or [], then=None,
        content=Content(body, "", files), in_reply_to="", references=[],
    )  # fmt: skip


def start_conversation(
    mailbox: Mailbox,
    *,
    author: User,
    subject: str,
    text: str,
    to: list[Address],
    cc: list[Address] | None = None,
    html: str = "",
    attachments: list[OutAttachment] | None = None,
) -> Message:
    """A new outbound conversation to a customer, owned by its author, in progress."""
    with transaction.atomic():
        conv = conversations.start_outbound(mailbox, customer=to[0], subject=subject, author=author)
        return _queue(
            conv, author=author, subject=subject, to=to, cc=cc or [], then=None,
            content=Content(text, html, attachments or []), in_reply_to="", references=[],
        )  # fmt: skip


def _named(name: str, email: str) -> str:
    return f"{name} <{email}>" if name else email


def _queue(
    conv: Conversation,
    *,
    author: User,
    subject: str,
    to: list[Address],
    cc: list[Address],
    then: Status | None,
    content: Content,
    in_reply_to: str,
    references: list[str],
    seen: Marks | None = None,
) -> Message:
    signature = conv.mailbox.signature.strip()
    body = content.text.rstrip() + (f"\n\n{signature}\n" if signature else "\n")
    html = content.html
    if html and signature:
        html += "<p>" + escape(signature).replace("\n", "<br>") + "</p>"
    sender = sender_for(conv.mailbox, author)
    now = timezone.now()
    with transaction.atomic():
        # the lock orders concurrent sends (SQLite: the IMMEDIATE transaction already does)
        Conversation.objects.select_for_update().filter(pk=conv.pk).first()
        conv.refresh_from_db()
        if seen is not None and (changes := changes_since(conv, seen)):
            raise Stale(changes)
        message = Message.objects.create(
            mailbox=conv.mailbox,
            conversation=conv,
            direction=Direction.OUT,
            author=author,
            dedupe_key="",
            subject=safe.one_line(subject)[:998],
            from_name=sender.name,
            from_email=sender.email,
            to=[[a.name, a.email] for a in to],
            cc=[[a.name, a.email] for a in cc],
            date=now,
            received_at=now,
            text=body,
            html=html,
            reply_text=body,
            thread_rule=ThreadRule.OWN,
            in_reply_to=in_reply_to,
        )
        message.message_id = make_message_id(
            settings.SECRET_KEY.encode(),
            conversation_id=conv.pk,
            message_id=message.pk,
            domain=conv.mailbox.domain,
        )
        message.dedupe_key = message.message_id
        message.save(update_fields=["message_id", "dedupe_key"])
        _store_attachments(message, content.attachments)
        data = _mail_of(message, references=references, attachments=content.attachments)
        held = needs_approval(conv.mailbox, author)
        outbox = Outbox.objects.create(
            message=message,
            data=data,
            envelope_from=conv.mailbox.address,
            recipients=[a.email for a in [*to, *cc]],
            previous_status=conv.status,
            send_after=now + timedelta(seconds=conv.mailbox.undo_seconds),
            status=OutboxStatus.AWAITING if held else OutboxStatus.QUEUED,
            then_status=then.value if held and then else "",
        )
        if not held:  # answered: the customer no longer waits on us ("waiting longest")
            conv.waiting_since = None
        _record("approval.requested" if held else "message.queued", message, actor_id=author.pk)
        conv.last_activity_at = now
        conv.message_count += 1
        conv.save(update_fields=["waiting_since", "last_activity_at", "message_count"])
        if conv.assignee_id is None:  # whoever answers an unassigned conversation owns it
            conversations.assign_conversation(conv, assignee_id=author.pk, actor_id=author.pk)
        target = (None if held else then) or (Status.OPEN if conv.status == Status.NEW else None)
        if target and target != conv.status:
            conversations.change_status(conv, target, actor_id=author.pk)
        if held:
            notify(reviewers_of(conv.mailbox), Kind.APPROVAL_ASKED, conversation=conv,
                   actor_id=author.pk)  # fmt: skip
        else:
            _schedule(outbox)
    return message


def needs_approval(mailbox: Mailbox, author: User) -> bool:
    """Agents' replies wait for a manager when the mailbox, or their membership, says so."""
    agent = Agent.objects.filter(user=author).first()
    if agent is None or agent.role != Role.AGENT:
        return False  # managers and admins are the reviewers
    return (
        mailbox.replies_need_approval
        or Membership.objects.filter(mailbox=mailbox, user=author, needs_approval=True).exists()
    )


def reviewers_of(mailbox: Mailbox) -> list[int]:
    """Who may approve replies from ``mailbox``: its managers, and every admin."""
    return list(
        Agent.objects.filter(user__is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(role=Role.MANAGER, user__memberships__mailbox=mailbox))
        .values_list("user_id", flat=True)
        .distinct()
    )


class Approval(enum.Enum):
    """What became of an approval."""

    APPROVED = "approved"
    GONE = "gone"  # no longer waits: approved, sent back or taken back meanwhile
    CHANGED = "changed"  # the mail is not the one the reviewer was shown


def digest_of(outbox: Outbox) -> str:
    """The SHA-256 of the stored bytes: what the review page shows is what is approved."""
    return hashlib.sha256(bytes(outbox.data)).hexdigest()


def approve(
    message: Message, *, reviewer: User, text: str | None = None, shown: str | None = None
) -> Approval:
    """Send a reply that waited for approval, as its author wrote it or as ``text``.

    ``shown`` is ``digest_of`` the bytes the reviewer was shown; if the stored mail is no
    longer those bytes, nothing is approved (``CHANGED``): the reviewer looks again.
    """
    with transaction.atomic():
        outbox = Outbox.objects.select_for_update().filter(message=message).first()
        if outbox is None or outbox.status != OutboxStatus.AWAITING:
            return Approval.GONE
        if shown is not None and not hmac.compare_digest(shown, digest_of(outbox)):
            return Approval.CHANGED
        conv = message.conversation
        edited = text is not None and text.strip() != message.text.strip()
        if edited:
            _recompose(message, outbox, str(text))
        now = timezone.now()
        outbox.status, outbox.send_after, outbox.reviewed_by = OutboxStatus.QUEUED, now, reviewer
        fields = ["status", "send_after", "reviewed_by", *(["data"] if edited else [])]
        outbox.save(update_fields=fields)
        _record("approval.approved", message, actor_id=reviewer.pk, edited=edited)
        conv.waiting_since, conv.last_activity_at = None, now
        conv.save(update_fields=["waiting_since", "last_activity_at"])
        if outbox.then_status and outbox.then_status != conv.status:
            conversations.change_status(conv, Status(outbox.then_status), actor_id=reviewer.pk)
        notify([message.author_id], Kind.APPROVED, conversation=conv, actor_id=reviewer.pk)
        _schedule(outbox)
    return Approval.APPROVED


def send_back(message: Message, *, reviewer: User, comment: str) -> bool:
    """Return a waiting reply to its author with a comment (an internal note).

    The author finds their text again in the composer, as a draft.
    """
    with transaction.atomic():
        outbox = Outbox.objects.select_for_update().filter(message=message).first()
        if outbox is None or outbox.status != OutboxStatus.AWAITING:
            return False
        conv = message.conversation
        outbox.status, outbox.reviewed_by = OutboxStatus.RETURNED, reviewer
        outbox.save(update_fields=["status", "reviewed_by"])
        note = conversations.add_note(conv, author_id=reviewer.pk, text=comment)
        _record("approval.returned", message, actor_id=reviewer.pk, note=note.pk)
        conv.message_count = max(conv.message_count - 1, 0)
        conv.save(update_fields=["message_count"])
        if message.author is not None:
            text = _without_signature(message.text, conv.mailbox)
            drafts.save(conv, message.author, to=_typed(message.to), cc=_typed(message.cc),
                        text=text, html=message.html)  # fmt: skip
        notify([message.author_id], Kind.RETURNED, conversation=conv, actor_id=reviewer.pk)
    return True


def _typed(addresses: list[list[str]]) -> str:
    return ", ".join(formataddr((name, email)) for name, email in addresses)


def _without_signature(text: str, mailbox: Mailbox) -> str:
    signature = mailbox.signature.strip()
    body = text.rstrip()
    if signature and body.endswith(signature):
        body = body[: -len(signature)]
    return body.rstrip()


def _recompose(message: Message, outbox: Outbox, text: str) -> None:
    """The reviewer changed the text: build the mail again (plain text, same headers)."""
    old = email.message_from_bytes(bytes(outbox.data))
    references = [r.strip("<>") for r in str(old.get("References", "")).split()]
    files = [
        OutAttachment(a.filename, a.content_type, blobs.read(a.sha256))
        for a in message.attachments.all()
    ]
    message.text = message.reply_text = text.rstrip() + "\n"
    message.html = ""
    message.save(update_fields=["text", "reply_text", "html"])
    outbox.data = _mail_of(message, references=references, attachments=files, date=timezone.now())


def _mail_of(
    message: Message,
    *,
    references: list[str],
    attachments: list[OutAttachment],
    date: datetime | None = None,
) -> bytes:
    """The bytes of an outbound message, from what the Message row holds."""
    return build(
        Outgoing(
            sender=Address(message.from_name, message.from_email),
            to=[Address(n, e) for n, e in message.to],
            cc=[Address(n, e) for n, e in message.cc],
            subject=message.subject,
            text=message.text,
            message_id=message.message_id,
            date=date or message.date or timezone.now(),
            in_reply_to=message.in_reply_to or None,
            references=references,
            charset=message.mailbox.outbound_charset,
            html=message.html or None,
            attachments=attachments,
        )
    )


def _store_attachments(message: Message, files: list[OutAttachment]) -> None:
    rows = []
    for att in files:  # named as compose.build will name them in the mail
        digest = hashlib.sha256(att.data).hexdigest()
        blobs.store(digest, att.data)
        rows.append(
            Attachment(
                message=message,
                filename=safe.file_name(att.filename),
                content_type=safe.content_type(att.content_type),
                size=len(att.data),
                sha256=digest,
            )
        )
    Attachment.objects.bulk_create(rows)


def _record(type: str, message: Message, *, actor_id: int | None = None, **data: object) -> None:
    events.record(
        type,
        mailbox_id=message.mailbox_id,
        conversation_id=message.conversation_id,
        actor_id=actor_id,
        message=message.pk,
        **data,
    )


def _references(last: Message | None) -> list[str]:
    if last is None or not last.message_id:
        return []
    known = list(last.refs.order_by("pk").values_list("ref", flat=True))
    chain = [r for r in known if r != last.in_reply_to] + (
        [last.in_reply_to] if last.in_reply_to else []
    )
    return [*chain[-(MAX_REFERENCES - 1) :], last.message_id]


def _schedule(outbox: Outbox) -> None:
    from madoguchi.mail_out.tasks import deliver_outbound

    task = deliver_outbound.using(run_after=outbox.send_after)
    transaction.on_commit(partial(task.enqueue, outbox.pk))


def may_take_back(message: Message, user: User) -> bool:
    """Undo and withdraw are for the reply's author, the mailbox's managers and admins."""
    return message.author_id == user.pk or user.pk in reviewers_of(message.mailbox)


def cancel(message: Message, *, actor: User) -> bool:
    """Undo: take a queued reply back before it leaves. False when it is too late.

    Raises ``PermissionDenied`` unless ``may_take_back``: another agent's reply is theirs.
    """
    if not may_take_back(message, actor):
        raise PermissionDenied("only its author or a manager may take a reply back")
    with transaction.atomic():
        outbox = Outbox.objects.select_for_update().filter(message=message).first()
        if outbox is None or outbox.status not in (OutboxStatus.QUEUED, OutboxStatus.AWAITING):
            return False
        outbox.status = OutboxStatus.CANCELLED
        outbox.save(update_fields=["status"])
        conv = message.conversation
        _record("message.cancelled", message, actor_id=actor.pk)
        if outbox.previous_status and outbox.previous_status != conv.status:
            conversations.change_status(conv, Status(outbox.previous_status), actor_id=actor.pk)
        conv.waiting_since = _waiting_since(conv)
        conv.message_count = max(conv.message_count - 1, 0)
        conv.save(update_fields=["waiting_since", "message_count"])
    return True


def _waiting_since(conv: Conversation) -> datetime | None:
    """When the customer's unanswered mail arrived (None if a reply is out after it)."""
    answered = (
        conv.messages.filter(direction=Direction.OUT)
        .exclude(outbox__status__in=UNSENT)
        .order_by("-pk")
        .values_list("received_at", flat=True)
        .first()
    )
    last_in = _last_inbound(conv)
    if last_in is None or (answered and answered >= last_in.received_at):
        return None
    return last_in.received_at


def deliver(outbox_id: int) -> str:
    """Send one queued mail if it is due; retry later on a temporary failure."""
    with transaction.atomic():
        outbox = (
            Outbox.objects.select_for_update()
            .select_related("message__mailbox")
            .filter(pk=outbox_id)
            .first()
        )
        if outbox is None or outbox.status not in (OutboxStatus.QUEUED, OutboxStatus.SENDING):
            return "nothing to do"
        if outbox.send_after > timezone.now():
            _schedule(outbox)  # woken early: the undo window is still open
            return "not yet"
        outbox.status, outbox.attempts = OutboxStatus.SENDING, outbox.attempts + 1
        outbox.save(update_fields=["status", "attempts"])
    message = outbox.message
    from madoguchi.demo import keeps_mail_locally

    kept = keeps_mail_locally(message.mailbox)
    partly: smtp.PartlyRefused | None = None
    if not kept:
        try:
            smtp.send(
                message.mailbox, outbox.envelope_from, list(outbox.recipients), bytes(outbox.data)
            )
        except smtp.PartlyRefused as exc:
            partly = exc  # it left for the others: sent, with the refusals kept
        except smtp.DeliveryError as exc:
            return _failed(outbox, exc)
    with transaction.atomic():
        outbox.status, outbox.sent_at = OutboxStatus.SENT, timezone.now()
        outbox.last_error = str(partly)[:2000] if partly else ""
        outbox.error_reason = partly.reason.value if partly else ""
        outbox.kept_locally = kept
        outbox.save(
            update_fields=["status", "sent_at", "last_error", "error_reason", "kept_locally"]
        )
        _record("message.sent", message, **({"kept_locally": True} if kept else {}))
    return "kept locally (demo)" if kept else "sent"


def _failed(outbox: Outbox, error: smtp.DeliveryError) -> str:
    message = outbox.message
    with transaction.atomic():
        outbox.last_error, outbox.error_reason = str(error)[:2000], error.reason.value
        fields = ["status", "last_error", "error_reason"]
        if error.temporary and outbox.attempts < MAX_ATTEMPTS:
            outbox.status = OutboxStatus.QUEUED
            outbox.send_after = timezone.now() + timedelta(
                seconds=min(30 * 2 ** (outbox.attempts - 1), 3600)
            )
            outbox.save(update_fields=[*fields, "send_after"])
            _record("message.retrying", message, error=outbox.last_error,
                    reason=outbox.error_reason, attempt=outbox.attempts)  # fmt: skip
            _schedule(outbox)
            return "retrying"
        outbox.status = OutboxStatus.FAILED
        outbox.save(update_fields=fields)
        _record("message.failed", message, error=outbox.last_error, reason=outbox.error_reason)
    return "failed"
