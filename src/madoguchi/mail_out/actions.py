"""Replies: queue in the durable outbox, take back within the undo window, deliver.

Every outbound mail takes one path (``_queue``): compose it (``outgoing``), pass the send
guard, store the message, its files, its bytes (Outbox) and its event in one transaction,
let ``conversations`` count it (status, owner, waiting time), and schedule delivery after
the mailbox's undo window. ``deliver`` sends with retries and backoff; a permanent failure
keeps the server's answer on the conversation. A crash after the server accepted a mail
but before it was marked sent sends it again on restart with the same Message-ID
(at-least-once), never zero times. Nobody is notified from here: ``notifications``
observes the events (approval asked, approved, sent back).
"""

from __future__ import annotations

import email
import enum
import hashlib
import hmac
from datetime import datetime, timedelta
from email.utils import formataddr
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

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
from madoguchi.conversations.queries import Marks, changes_since
from madoguchi.core import blobs, events
from madoguchi.core.event_types import EventType
from madoguchi.mail import Address
from madoguchi.mail import header_values as safe
from madoguchi.mail.compose import OutAttachment
from madoguchi.mail.tokens import make_message_id
from madoguchi.mail_out import drafts, outgoing, smtp
from madoguchi.mail_out.approval import needs_approval, reviewers_of
from madoguchi.mail_out.models import Outbox, OutboxStatus
from madoguchi.mail_out.outgoing import (
    Content,
    Outbound,
    fill_sender_format,
    reply_recipients,
    sender_for,
)
from madoguchi.mailboxes.models import Mailbox

#: The web layer reads the composing and approval helpers through here too.
__all__ = [
    "MAX_ATTEMPTS",
    "UNSENT",
    "Approval",
    "Content",
    "Stale",
    "approve",
    "cancel",
    "deliver",
    "digest_of",
    "fill_sender_format",
    "may_take_back",
    "needs_approval",
    "queue_automatic",
    "queue_forward",
    "queue_reply",
    "reply_recipients",
    "reviewers_of",
    "send_back",
    "sender_for",
    "start_conversation",
]

MAX_ATTEMPTS = 8
#: Replies that did not (and will not, as they are) reach the customer.
UNSENT = (OutboxStatus.CANCELLED, OutboxStatus.AWAITING, OutboxStatus.RETURNED)


class Stale(Exception):
    """Refused by the send guard: the conversation changed after the reply was begun."""

    def __init__(self, changes: list[Message | Note]) -> None:
        super().__init__(f"{len(changes)} new item(s) since the reply was begun")
        self.changes = changes


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
    last = outgoing.last_inbound(conv)
    mail = outgoing.compose(
        conv, author, subject=outgoing.reply_subject(conv), to=to, cc=cc or [],
        content=Content(text, html, attachments or []),
        in_reply_to=last.message_id if last else "", references=outgoing.references(last),
    )  # fmt: skip
    return _queue(conv, author=author, mail=mail, then=then, seen=seen)


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
    files = list(attachments or [])
    if with_attachments:
        files += [
            OutAttachment(a.filename, a.content_type, blobs.read(a.sha256))
            for a in source.attachments.filter(inline=False)
        ]
    mail = outgoing.compose(
        conv, author, subject=outgoing.forward_subject(conv, source), to=to, cc=cc or [],
        content=Content(outgoing.forward_text(text, source), "", files),
    )  # fmt: skip
    return _queue(conv, author=author, mail=mail, then=None)


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
        mail = outgoing.compose(
            conv, author, subject=subject, to=to, cc=cc or [],
            content=Content(text, html, attachments or []),
        )  # fmt: skip
        return _queue(conv, author=author, mail=mail, then=None)


def queue_automatic(conv: Conversation, *, mail: Outbound, rule: str = "") -> Message:
    """Queue a mail nobody wrote (``outgoing.compose_automatic``: an acknowledgement, a
    rule's template reply); the caller decided it may go (``automation.auto_reply``).

    It has no author: it is sent at once (no undo window, no approval), it neither
    answers the customer's wait nor takes or moves the conversation, and its
    ``message.queued`` event says ``auto`` (and the ``rule`` that sent it), so the
    first-response target and the lists still wait for a person.
    """
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conv.pk).first()
        message = _store_message(conv, None, mail)
        _store_attachments(message, mail.attachments)
        outbox = Outbox.objects.create(
            message=message,
            data=outgoing.mail_of(
                message, references=mail.references, attachments=mail.attachments,
                headers=mail.headers,
            ),
            envelope_from=conv.mailbox.address,
            recipients=mail.recipients,
            previous_status=conv.status,
            send_after=message.received_at,
            status=OutboxStatus.QUEUED,
        )  # fmt: skip
        if rule:
            _record(EventType.MESSAGE_QUEUED, message, auto=True, rule=rule)
        else:
            _record(EventType.MESSAGE_QUEUED, message, auto=True)
    _schedule(outbox)
    return message


def _queue(
    conv: Conversation,
    *,
    author: User,
    mail: Outbound,
    then: Status | None,
    seen: Marks | None = None,
) -> Message:
    """The one way out for a composed mail: guard, persist, then deliver after commit."""
    with transaction.atomic():
        _guard(conv, seen)
        outbox = _persist(conv, author, mail, then=then)
    if outbox.status == OutboxStatus.QUEUED:
        _schedule(outbox)  # on commit: at once here, or when an enclosing transaction ends
    return outbox.message


def _guard(conv: Conversation, seen: Marks | None) -> None:
    """The send guard: lock ``conv`` (ordering concurrent sends; on SQLite the IMMEDIATE
    transaction already does) and raise ``Stale`` if a message or a note came after what
    the author saw. ``conv`` is read again under the lock."""
    Conversation.objects.select_for_update().filter(pk=conv.pk).first()
    conv.refresh_from_db()
    if seen is not None and (changes := changes_since(conv, seen)):
        raise Stale(changes)


def _persist(conv: Conversation, author: User, mail: Outbound, *, then: Status | None) -> Outbox:
    """Store the message, its files, its bytes and its event; ``conversations`` counts it
    (waiting time, owner, status). A reply held for approval waits in the outbox."""
    held = needs_approval(conv.mailbox, author)
    message = _store_message(conv, author, mail)
    _store_attachments(message, mail.attachments)
    outbox = Outbox.objects.create(
        message=message,
        data=outgoing.mail_of(
            message,
            references=mail.references,
            attachments=mail.attachments,
            headers=mail.headers,
        ),  # fmt: skip
        envelope_from=conv.mailbox.address,
        recipients=mail.recipients,
        previous_status=conv.status,
        send_after=message.received_at + timedelta(seconds=conv.mailbox.undo_seconds),
        status=OutboxStatus.AWAITING if held else OutboxStatus.QUEUED,
        then_status=str(then) if held and then else "",  # Status, or its value
    )
    kind = EventType.APPROVAL_REQUESTED if held else EventType.MESSAGE_QUEUED
    _record(kind, message, actor_id=author.pk)
    conversations.record_outbound(conv, message, held=held, then=then)
    return outbox


def _store_message(conv: Conversation, author: User | None, mail: Outbound) -> Message:
    """The outbound Message, with our signed Message-ID (it needs the row's id); no
    ``author`` for an automatic one."""
    now = timezone.now()
    message = Message.objects.create(
        mailbox=conv.mailbox,
        conversation=conv,
        direction=Direction.OUT,
        author=author,
        dedupe_key="",
        subject=mail.subject,
        from_name=mail.sender.name,
        from_email=mail.sender.email,
        to=[[a.name, a.email] for a in mail.to],
        cc=[[a.name, a.email] for a in mail.cc],
        date=now,
        received_at=now,
        text=mail.text,
        html=mail.html,
        reply_text=mail.text,
        thread_rule=ThreadRule.OWN,
        in_reply_to=mail.in_reply_to,
    )
    message.message_id = make_message_id(
        settings.SECRET_KEY.encode(),
        conversation_id=conv.pk,
        message_id=message.pk,
        domain=conv.mailbox.domain,
    )
    message.dedupe_key = message.message_id
    message.save(update_fields=["message_id", "dedupe_key"])
    return message


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


def _record(
    type: EventType, message: Message, *, actor_id: int | None = None, **data: object
) -> None:
    events.record(
        type,
        mailbox_id=message.mailbox_id,
        conversation_id=message.conversation_id,
        actor_id=actor_id,
        message=message.pk,
        **data,
    )


def _schedule(outbox: Outbox) -> None:
    """Enqueue delivery once the transaction commits, to run when the undo window ends."""
    from madoguchi.mail_out.tasks import deliver_outbound

    task = deliver_outbound.using(run_after=outbox.send_after)
    transaction.on_commit(partial(task.enqueue, outbox.pk))


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
        edited = text is not None and text.strip() != message.text.strip()
        if edited:
            _recompose(message, outbox, str(text))
        outbox.status, outbox.reviewed_by = OutboxStatus.QUEUED, reviewer
        outbox.send_after = timezone.now()
        fields = ["status", "send_after", "reviewed_by", *(["data"] if edited else [])]
        outbox.save(update_fields=fields)
        _record(EventType.APPROVAL_APPROVED, message, actor_id=reviewer.pk, edited=edited)
        then = Status(outbox.then_status) if outbox.then_status else None
        conversations.release_outbound(message.conversation, then=then, actor_id=reviewer.pk)
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
        _record(EventType.APPROVAL_RETURNED, message, actor_id=reviewer.pk, note=note.pk)
        # a held reply never answered the customer: their wait stays as it is
        conversations.undo_outbound(conv, actor_id=reviewer.pk, waiting_since=conv.waiting_since)
        if message.author is not None:
            text = outgoing.without_signature(message.text, conv.mailbox)
            drafts.save(conv, message.author, to=_typed(message.to), cc=_typed(message.cc),
                        text=text, html=message.html)  # fmt: skip
    return True


def _typed(addresses: list[list[str]]) -> str:
    return ", ".join(formataddr((name, email)) for name, email in addresses)


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
    outbox.data = outgoing.mail_of(
        message, references=references, attachments=files, date=timezone.now()
    )


def may_take_back(message: Message, user: User) -> bool:
    """Undo and withdraw are for the reply's author, the mailbox's managers and admins."""
    return message.author_id == user.pk or user.pk in reviewers_of(message.mailbox)


def cancel(message: Message, *, actor: User) -> bool:
    """Undo: take a queued reply back before it leaves. False when it is too late.

    The conversation's status before the reply comes back, and the customer waits again
    if nothing else answered them. Raises ``PermissionDenied`` unless ``may_take_back``:
    another agent's reply is theirs.
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
        _record(EventType.MESSAGE_CANCELLED, message, actor_id=actor.pk)
        before = Status(outbox.previous_status) if outbox.previous_status else None
        conversations.undo_outbound(
            conv, actor_id=actor.pk, status=before, waiting_since=_waiting_since(conv)
        )
    return True


def _waiting_since(conv: Conversation) -> datetime | None:
    """When the customer's unanswered mail arrived (None if a reply is out after it; an
    automatic one answers nobody)."""
    answered = (
        conv.messages.filter(direction=Direction.OUT, author__isnull=False)
        .exclude(outbox__status__in=UNSENT)
        .order_by("-pk")
        .values_list("received_at", flat=True)
        .first()
    )
    last_in = outgoing.last_inbound(conv)
    if last_in is None or (answered and answered >= last_in.received_at):
        return None
    return last_in.received_at


def deliver(outbox_id: int) -> str:
    """Send one queued mail if it is due; retry later on a temporary failure."""
    outbox = _claim(outbox_id)
    if isinstance(outbox, str):
        return outbox
    mailbox = outbox.message.mailbox
    if mailbox.keeps_mail_locally:  # the demo mailbox: nothing leaves
        _sent(outbox, kept=True)
        return "kept locally (demo)"
    try:
        smtp.send(mailbox, outbox.envelope_from, list(outbox.recipients), bytes(outbox.data))
    except smtp.PartlyRefused as exc:
        _sent(outbox, partly=exc)  # it left for the others: sent, with the refusals kept
    except smtp.DeliveryError as exc:
        return _failed(outbox, exc)
    else:
        _sent(outbox)
    return "sent"


#: A queued mail due this long ago whose delivery never ran is taken up again.
OVERDUE = timedelta(minutes=2)


def deliver_overdue(now: datetime | None = None) -> int:
    """Enqueue delivery again for queued mail overdue by ``OVERDUE``: its task was lost (the
    process died between commit and enqueue, or a worker died holding the task). Run at
    worker start. A task still to come finds it sent and does nothing (``_claim``)."""
    due = (now or timezone.now()) - OVERDUE
    rows = list(Outbox.objects.filter(status=OutboxStatus.QUEUED, send_after__lt=due))
    for outbox in rows:
        with transaction.atomic():
            _schedule(outbox)
    return len(rows)


def _claim(outbox_id: int) -> Outbox | str:
    """The outbox row, marked sending (an attempt more), if it is due; else why not."""
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
    return outbox


def _sent(outbox: Outbox, *, partly: smtp.PartlyRefused | None = None, kept: bool = False) -> None:
    with transaction.atomic():
        outbox.status, outbox.sent_at = OutboxStatus.SENT, timezone.now()
        outbox.last_error = str(partly)[:2000] if partly else ""
        outbox.error_reason = partly.reason.value if partly else ""
        outbox.kept_locally = kept
        outbox.save(
            update_fields=["status", "sent_at", "last_error", "error_reason", "kept_locally"]
        )
        marks = {"kept_locally": True} if kept else {}
        if outbox.message.author_id is None:
            marks["auto"] = True  # nobody wrote it: not a person's answer
        _record(EventType.MESSAGE_SENT, outbox.message, **marks)


def _failed(outbox: Outbox, error: smtp.DeliveryError) -> str:
    """A temporary failure is tried again later (backoff: 30 s doubling, at most 1 h, up to
    ``MAX_ATTEMPTS``); a permanent one, or the last, marks the mail failed."""
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
            _record(EventType.MESSAGE_RETRYING, message, error=outbox.last_error,
                    reason=outbox.error_reason, attempt=outbox.attempts)  # fmt: skip
            _schedule(outbox)
            return "retrying"
        outbox.status = OutboxStatus.FAILED
        outbox.save(update_fields=fields)
        _record(EventType.MESSAGE_FAILED, message, error=outbox.last_error,
                reason=outbox.error_reason)  # fmt: skip
    return "failed"
