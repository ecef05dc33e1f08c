"""Every state change of conversations and messages. Each call records its Events.

The only writer of a conversation's own fields (status, owner, kind, counts, activity,
waiting time, snippet, unread): intake (``mail_in``) and the outbox (``mail_out``) call the
functions here (``receive_messages``, ``record_outbound``, ``undo_outbound`` ...) rather than
setting fields themselves. Nothing here tells anyone: ``notifications`` observes the events
(``core.events.observe``). Callers hold a transaction (``receive_messages`` is called from
``mail_in.actions``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from madoguchi.conversations import participants
from madoguchi.conversations.changes import Changes, tag_key
from madoguchi.conversations.contacts import contacts_for
from madoguchi.conversations.models import (
    Attachment,
    Conversation,
    Direction,
    Message,
    MessageRef,
    Note,
    Status,
    Tag,
    ThreadRule,
)
from madoguchi.conversations.models import Kind as ConversationKind
from madoguchi.core import blobs, events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mail import Address, ParsedMail
from madoguchi.mailboxes.actions import add_person_sender
from madoguchi.mailboxes.models import Mailbox

if TYPE_CHECKING:  # the raw row rides along; conversations sits below mail_in
    from madoguchi.mail_in.models import RawMessage

MAX_REFS = 30


@dataclass(frozen=True, slots=True)
class KindChange:
    """A stored inbound message whose kind the current rules see differently."""

    message_id: int
    conversation_id: int
    before: str
    after: str
    reason: str
    hint: str


@dataclass
class Inbound:
    """One parsed inbound mail and where threading placed it."""

    raw: RawMessage
    mail: ParsedMail
    #: An existing conversation's id, or a new unsaved Conversation of this batch.
    conversation: int | Conversation
    rule: ThreadRule
    dedupe_key: str


def _snippet(reply_text: str, text: str) -> str:
    """The first line with words of a mail's own text (its quote left out): the list's preview."""
    for line in (reply_text or text).splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def receive_messages(mailbox: Mailbox, batch: list[Inbound]) -> list[Message]:
    """Store inbound mails in their conversations and update those conversations.

    New conversations (unsaved ``Conversation`` objects in ``batch``) are created; existing
    ones get their counts and activity updated, and done/on-hold ones reopen (PRODUCT.md).
    A mail into a conversation that existed before the batch is a ``reply`` (its
    ``message.received`` event says so: ``notifications`` tells the assignee).
    """
    now = timezone.now()
    log: list[Event] = []
    new = list({id(c): c for i in batch if (c := _new_conversation(i)) is not None}.values())
    _fill_new(mailbox, new, batch, now)
    Conversation.objects.bulk_create(new)
    log += [
        events.build(EventType.CONVERSATION_CREATED, mailbox_id=mailbox.pk, conversation_id=c.pk)
        for c in new
    ]
    newcomers = _newcomers(mailbox, batch)
    messages = Message.objects.bulk_create(
        _message(mailbox, item, now, new_participant=flag)
        for item, flag in zip(batch, newcomers, strict=True)
    )
    _store_refs(messages, batch)
    _store_attachments(messages, batch)
    log += _touch_existing(batch, now)
    log += [
        events.build(
            EventType.MESSAGE_RECEIVED,
            mailbox_id=mailbox.pk,
            conversation_id=m.conversation_id,
            message=m.pk,
            rule=m.thread_rule,
            kind=m.kind,
            **({"reply": True} if isinstance(item.conversation, int) else {}),
        )
        for m, item in zip(messages, batch, strict=True)
    ]
    events.record_many(log)
    return messages


def _newcomers(mailbox: Mailbox, batch: list[Inbound]) -> list[bool]:
    """For each mail of ``batch``: does a reply to it go to someone new to its conversation?

    The first mail of a new conversation establishes its participants; a newcomer's mail
    adds nobody (``participants``).
    """
    known = participants.known_addresses(c for i in batch if isinstance(c := i.conversation, int))
    fresh: dict[int, set[str]] = {}
    flags = []
    for item in batch:
        conv = item.conversation
        if isinstance(conv, int):
            people = known[conv]
        elif id(conv) in fresh:
            people = fresh[id(conv)]
        else:
            people = fresh[id(conv)] = {mailbox.address.lower()}
            people |= participants.mail_addresses(item.mail)
            flags.append(False)
            continue
        new = participants.is_newcomer(item.mail, people)
        if not new:
            people |= participants.mail_addresses(item.mail)
        flags.append(new)
    return flags


def _new_conversation(item: Inbound) -> Conversation | None:
    conv = item.conversation
    return conv if isinstance(conv, Conversation) and conv.pk is None else None


def _fill_new(
    mailbox: Mailbox, new: list[Conversation], batch: list[Inbound], now: datetime
) -> None:
    items: dict[int, list[Inbound]] = defaultdict(list)
    for item in batch:
        if _new_conversation(item) is not None:
            items[id(item.conversation)].append(item)
    senders = [(i.mail.sender.email, i.mail.sender.name) for i in batch if i.mail.sender]
    contacts = contacts_for(senders) if new else {}
    for conv in new:
        mine = items[id(conv)]
        first = mine[0].mail
        conv.mailbox = mailbox
        conv.contact = contacts.get(first.sender.email.lower()) if first.sender else None
        conv.subject = first.subject[:998]
        conv.kind, conv.kind_hint = _kind_of([i.mail for i in mine])
        conv.message_count = len(mine)
        conv.snippet = _snippet(mine[-1].mail.reply_text, mine[-1].mail.text)
        conv.last_activity_at = conv.waiting_since = now
        conv.unread = True


def _kind_of(mails: list[ParsedMail]) -> tuple[str, str]:
    """A new conversation's kind and hint: a person's mail among them makes it normal."""
    people = [m for m in mails if m.kind == "normal"]
    if people:
        return ConversationKind.NORMAL, next((m.kind_hint for m in people if m.kind_hint), "")
    return mails[0].kind, ""


def _set_kind(
    conv: Conversation, kind: str, *, actor_id: int | None, reason: str, always: str = ""
) -> Event:
    """Change ``conv.kind`` in memory and build the event (the caller saves and records).

    ``always``: the sender the agent added to the mailbox's "always a person" list with it.
    """
    event = events.build(
        EventType.CONVERSATION_KIND,
        mailbox_id=conv.mailbox_id,
        conversation_id=conv.pk,
        actor_id=actor_id,
        before=conv.kind,
        after=kind,
        reason=reason,
        **({"always": always} if always else {}),
    )
    conv.kind = kind
    if kind == ConversationKind.NORMAL:
        conv.kind_hint = ""
    return event


def _message(mailbox: Mailbox, item: Inbound, now: datetime, *, new_participant: bool) -> Message:
    mail = item.mail
    message = Message(
        mailbox=mailbox,
        raw=item.raw,
        direction=Direction.IN,
        dedupe_key=item.dedupe_key[:512],
        message_id=(mail.message_id or "")[:512],
        in_reply_to=(mail.in_reply_to or "")[:512],
        subject=mail.subject[:998],
        from_name=(mail.sender.name if mail.sender else "")[:255],
        from_email=(mail.sender.email if mail.sender else "")[:320],
        to=[[a.name, a.email] for a in mail.to],
        cc=[[a.name, a.email] for a in mail.cc],
        reply_to=[[a.name, a.email] for a in mail.reply_to],
        date=mail.date,
        received_at=now,
        text=mail.text,
        html=mail.html or "",
        reply_text=mail.reply_text,
        kind=mail.kind,
        kind_reason=mail.kind_reason[:120],
        kind_hint=mail.kind_hint or "",
        thread_rule=item.rule,
        new_participant=new_participant,
        defects=[[d.where, d.problem, d.repair] for d in mail.defects],
    )
    if isinstance(item.conversation, Conversation):
        message.conversation = item.conversation
    else:
        message.conversation_id = item.conversation
    return message


def _store_refs(messages: list[Message], batch: list[Inbound]) -> None:
    rows = []
    for message, item in zip(messages, batch, strict=True):
        ids = [*item.mail.references[-MAX_REFS:], item.mail.in_reply_to or ""]
        rows += [
            MessageRef(message=message, mailbox_id=message.mailbox_id, ref=ref[:512])
            for ref in dict.fromkeys(ids)
            if ref
        ]
    MessageRef.objects.bulk_create(rows)


def _store_attachments(messages: list[Message], batch: list[Inbound]) -> None:
    rows = []
    for message, item in zip(messages, batch, strict=True):
        for att in item.mail.attachments:
            blobs.store(att.sha256, att.data)
            rows.append(
                Attachment(
                    message=message,
                    filename=(att.filename or "attachment")[:255],
                    content_type=att.content_type[:255],
                    size=att.size,
                    sha256=att.sha256,
                    content_id=(att.content_id or "")[:255],
                    inline=att.inline,
                )
            )
    Attachment.objects.bulk_create(rows)


def _touch_existing(batch: list[Inbound], now: datetime) -> list[Event]:
    """A customer's mail makes an existing conversation active again.

    It ends a snooze early (back to 新着 or to its owner, as the snooze said: one
    ``conversation.woken`` event, reason "customer") and answers a follow-up (cleared).
    """
    latest: dict[int, Inbound] = {}
    counts: dict[int, int] = defaultdict(int)
    for item in batch:
        if isinstance(item.conversation, int):
            latest[item.conversation] = item
            counts[item.conversation] += 1
    if not latest:
        return []
    log = []
    people = {c for i in batch if isinstance(c := i.conversation, int) and i.mail.kind == "normal"}
    convs = list(Conversation.objects.filter(pk__in=list(latest)))
    for conv in convs:
        if conv.kind != ConversationKind.NORMAL and conv.pk in people:
            log.append(_set_kind(conv, ConversationKind.NORMAL, actor_id=None, reason="person"))
        before = conv.status
        conv.message_count += counts[conv.pk]
        conv.last_activity_at = now
        conv.snippet = _snippet(latest[conv.pk].mail.reply_text, latest[conv.pk].mail.text)
        conv.waiting_since = conv.waiting_since or now
        conv.unread = True
        if woken := _arrival_ends_timers(conv, person=conv.pk in people):
            log.append(woken)
        elif before in (Status.DONE, Status.HOLD):
            conv.status = Status.OPEN if conv.assignee_id else Status.NEW
            log.append(
                events.build(
                    EventType.CONVERSATION_STATUS,
                    mailbox_id=conv.mailbox_id,
                    conversation_id=conv.pk,
                    before=before,
                    after=conv.status,
                    reason="customer replied",
                )
            )
    Conversation.objects.bulk_update(
        convs,
        [
            "message_count",
            "last_activity_at",
            "snippet",
            "waiting_since",
            "status",
            "kind",
            "unread",
            "snoozed_until",
            "snooze_back_to",
            "follow_up_at",
            "follow_up_by",
        ],  # fmt: skip
    )
    return log


def _arrival_ends_timers(conv: Conversation, *, person: bool) -> Event | None:
    """Mail into ``conv`` (in memory) ends its snooze, and a person's mail answers its
    follow-up. The ``conversation.woken`` event when it was snoozed (it then stands for
    the status change), else None."""
    if person:
        conv.follow_up_at, conv.follow_up_by_id = None, None
    snoozed = conv.status == Status.HOLD and conv.snoozed_until is not None
    back_to = conv.snooze_back_to
    conv.snoozed_until, conv.snooze_back_to = None, ""
    if not snoozed:
        return None
    conv.status = Status.OPEN if back_to == "owner" and conv.assignee_id else Status.NEW
    return events.build(
        EventType.CONVERSATION_WOKEN,
        mailbox_id=conv.mailbox_id,
        conversation_id=conv.pk,
        reason="customer",
    )


def change_customer(conversation_ids: Iterable[int], *, before: int, after: int) -> int:
    """Conversations of customer ``before`` become customer ``after``'s (a merge of two
    customers, or its undo: ``customers.actions``); how many changed."""
    return Conversation.objects.filter(pk__in=list(conversation_ids), contact_id=before).update(
        contact_id=after
    )


def merge_into(target_id: int, sources: list[int], *, parent_id: str) -> None:
    """Move conversations that one mail links into ``target_id``, with all they hold.

    Threading merges when a mail links several conversations: replies to it that arrived
    first, or mails it names (docs/mail/threading.md). ``parent_id`` is that mail's
    Message-ID. Messages, events, notes, tags and drafts (unless the author has one in
    ``target_id``) move; ``notifications`` moves its own rows when it sees the
    ``conversation.merged`` event (one per source, recorded before the source is deleted).
    What the target shows of its messages is derived again: their count, the latest
    activity, the longest wait, the snippet of the newest inbound mail, unread, and its kind
    (a person's mail in either makes it normal). Mails that had found no conversation
    through the ids they name and name ``parent_id`` now hang on it (their rule becomes
    in_reply_to or references).
    """
    # locked: a reply queued meanwhile (``record_outbound``) must not be counted away
    target = Conversation.objects.select_for_update().get(pk=target_id)
    found = list(Conversation.objects.filter(pk__in=sources).exclude(pk=target_id))
    log: list[Event] = []
    for source in found:
        moved = _move_contents(source, target, parent_id=parent_id)
        log += _absorb(target, source)
        events.record(
            EventType.CONVERSATION_MERGED,
            mailbox_id=source.mailbox_id,
            conversation_id=target_id,
            merged=source.pk,
            messages=moved,
            via=parent_id,
        )
        source.delete()
    if not found:
        return
    target.snippet = _newest_snippet(target) or target.snippet
    target.save(
        update_fields=[
            "message_count", "last_activity_at", "waiting_since", "unread", "snippet", "kind",
            "kind_hint",
        ]
    )  # fmt: skip
    events.record_many(log)


def _move_contents(source: Conversation, target: Conversation, *, parent_id: str) -> int:
    """Hang what ``source`` holds on ``target``; how many messages moved."""
    moved = Message.objects.filter(conversation=source)
    if parent_id:
        loose = moved.filter(thread_rule__in=[ThreadRule.NEW, ThreadRule.LATE_PARENT])
        loose.filter(in_reply_to=parent_id).update(thread_rule=ThreadRule.IN_REPLY_TO)
        loose.filter(refs__ref=parent_id).update(thread_rule=ThreadRule.REFERENCES)
    count = moved.update(conversation_id=target.pk)
    source.events.update(conversation_id=target.pk)
    source.notes.update(conversation_id=target.pk)
    source.drafts.exclude(author__in=target.drafts.values("author")).update(
        conversation_id=target.pk
    )
    target.tags.add(*source.tags.all())
    return count


def _absorb(target: Conversation, source: Conversation) -> list[Event]:
    """The fields of ``target`` (in memory) once it holds ``source``'s messages too.

    ``message_count`` adds the source's own count, which leaves out replies taken back.
    """
    target.message_count += source.message_count
    target.last_activity_at = max(target.last_activity_at, source.last_activity_at)
    waiting = [t for t in (target.waiting_since, source.waiting_since) if t is not None]
    target.waiting_since = min(waiting, default=None)
    target.unread = target.unread or source.unread
    if source.kind == ConversationKind.NORMAL and target.kind != ConversationKind.NORMAL:
        return [_set_kind(target, ConversationKind.NORMAL, actor_id=None, reason="person")]
    return []


def _newest_snippet(conv: Conversation) -> str:
    """The snippet of ``conv``'s newest inbound mail, as ``receive_messages`` writes it."""
    newest = (
        conv.messages.filter(direction=Direction.IN)
        .order_by("-received_at", "-pk")
        .values_list("reply_text", "text")
        .first()
    )
    return _snippet(*newest) if newest else ""


def assign_conversation(
    conv: Conversation,
    *,
    assignee_id: int | None,
    actor_id: int | None,
    rule: str | None = None,
    group: str | None = None,
    strategy: str | None = None,
    reason: str | None = None,
) -> None:
    """Give ``conv`` to ``assignee_id`` (None: unassign). Caller checked ``actor`` may edit it.

    Claiming a new conversation moves it to in progress (PRODUCT.md). Automation passes
    ``actor_id`` None and says how it chose: ``rule`` (the rule's name), ``group`` (the
    group's name), ``strategy`` and ``reason`` ("auto", or "handover" for 引き継ぎ); the
    event carries them for the timeline. Many at once: ``changes.Changes.assign``.
    """
    how = {
        k: v
        for k, v in (("rule", rule), ("group", group), ("strategy", strategy), ("reason", reason))
        if v
    }
    changes = Changes()
    if changes.assign(conv, assignee_id, actor_id=actor_id, **how):
        changes.save()


def mark_read(conv: Conversation, *, user_id: int) -> bool:
    """``user_id`` opened ``conv``: if they have it (or nobody does), its new mail is read.

    Whether anything changed; one ``conversation.read`` event when it did (lists update).
    """
    if not conv.unread or conv.assignee_id not in (None, user_id):
        return False
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conv.pk, unread=True).update(unread=False)
        if changed:
            events.record(
                EventType.CONVERSATION_READ,
                mailbox_id=conv.mailbox_id,
                conversation_id=conv.pk,
                actor_id=user_id,
            )
    conv.unread = False
    return bool(changed)


def claim(conv: Conversation, *, user_id: int) -> bool:
    """Take ``conv`` if nobody has it yet (under a lock: of two at once, the first wins)."""
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conv.pk).first()
        conv.refresh_from_db()
        if conv.assignee_id is not None:
            return False
        assign_conversation(conv, assignee_id=user_id, actor_id=user_id)
        return True


def change_status(
    conv: Conversation, status: Status, *, actor_id: int | None, rule: str | None = None
) -> None:
    """Set the status; caller checked ``actor`` may edit ``conv`` (``rule``: the name of the
    rule that did it, ``actor_id`` None). Many at once: ``changes.Changes.status``."""
    changes = Changes()
    if changes.status(conv, status, actor_id=actor_id, rule=rule):
        changes.save()


def add_note(conv: Conversation, *, author_id: int, text: str) -> Note:
    """An internal note; caller checked ``author`` may see ``conv``.

    Agents it mentions (``@sato``, ``@佐藤花子``) hear of it from ``notifications``, which
    observes ``note.added``.
    """
    with transaction.atomic():
        note = Note.objects.create(conversation=conv, author_id=author_id, text=text.strip())
        events.record(
            EventType.NOTE_ADDED,
            mailbox_id=conv.mailbox_id,
            conversation_id=conv.pk,
            actor_id=author_id,
            note=note.pk,
        )
    return note


def tag_conversation(
    conv: Conversation, name: str, *, actor_id: int | None, rule: str | None = None
) -> Tag:
    """Put the tag ``name`` on ``conv`` (made on first use); nothing if it has it already.
    ``rule``: the name of the rule that did it (``actor_id`` None)."""
    changes = Changes()
    changes.tag(conv, name, actor_id=actor_id, rule=rule)
    changes.save()
    return changes.tags[tag_key(name.strip())]


def untag_conversation(
    conv: Conversation, tag: Tag, *, actor_id: int | None, rule: str | None = None
) -> None:
    changes = Changes()
    changes.untag(conv, tag.name, actor_id=actor_id, rule=rule)
    changes.save()


def start_outbound(
    mailbox: Mailbox, *, customer: Address, subject: str, author: User
) -> Conversation:
    """A conversation we start (no mail from the customer yet): in progress, the author's.

    The first message is queued by ``mail_out.actions.start_conversation``.
    """
    now = timezone.now()
    with transaction.atomic():
        contact = contacts_for([(customer.email, customer.name)]).get(customer.email.lower())
        conv = Conversation.objects.create(
            mailbox=mailbox,
            contact=contact,
            subject=subject[:998],
            status=Status.OPEN,
            assignee=author,
            last_activity_at=now,
        )
        events.record(
            EventType.CONVERSATION_STARTED,
            mailbox_id=mailbox.pk,
            conversation_id=conv.pk,
            actor_id=author.pk,
        )
    return conv


def record_outbound(
    conv: Conversation, message: Message, *, held: bool, then: Status | None
) -> None:
    """``message``, an agent's mail, was just written in ``conv`` (queued, or ``held`` for
    approval); its event is recorded. Caller holds the conversation's lock.

    It counts as a message and as the latest activity. A queued one answers the customer,
    who no longer waits ("waiting longest"); a held one does not yet, and ``then`` waits for
    the approval (``release_outbound``). Whoever answers an unassigned conversation owns it,
    and the status becomes ``then``, or in progress from new.
    """
    author_id = message.author_id
    assert author_id is not None, "an outbound message has its author"
    conv.last_activity_at = message.received_at
    conv.message_count += 1
    if not held:
        conv.waiting_since = None
    conv.save(update_fields=["waiting_since", "last_activity_at", "message_count"])
    if conv.assignee_id is None:
        assign_conversation(conv, assignee_id=author_id, actor_id=author_id)
    target = (None if held else then) or (Status.OPEN if conv.status == Status.NEW else None)
    if target and target != conv.status:
        change_status(conv, target, actor_id=author_id)


def release_outbound(conv: Conversation, *, then: Status | None, actor_id: int) -> None:
    """A held reply of ``conv`` was approved by ``actor_id`` and leaves: it answers the
    customer now, and the status becomes ``then`` (what its author chose)."""
    conv.waiting_since, conv.last_activity_at = None, timezone.now()
    conv.save(update_fields=["waiting_since", "last_activity_at"])
    if then and then != conv.status:
        change_status(conv, then, actor_id=actor_id)


def undo_outbound(
    conv: Conversation,
    *,
    actor_id: int,
    waiting_since: datetime | None,
    status: Status | None = None,
) -> None:
    """An agent's mail of ``conv`` will not leave (taken back, or sent back by a reviewer).

    It no longer counts; ``status`` (the status before it, for a take-back) comes back, and
    the customer waits since ``waiting_since`` (the outbox knows which replies still
    answer them). Its event is recorded by the caller.
    """
    if status and status != conv.status:
        change_status(conv, status, actor_id=actor_id)
    conv.waiting_since = waiting_since
    conv.message_count = max(conv.message_count - 1, 0)
    conv.save(update_fields=["waiting_since", "message_count"])


def mark_not_automated(conv: Conversation, *, actor_id: int, always: str = "") -> None:
    """Mark ``conv`` as a person's mail (これは自動送信ではない): it goes back to new mail.

    ``always`` (an address or a domain) is added to the mailbox's list of senders whose mail
    is always a person's. Caller checked ``actor`` may edit ``conv``.
    """
    with transaction.atomic():
        if conv.kind != ConversationKind.NORMAL:
            event = _set_kind(
                conv, ConversationKind.NORMAL, actor_id=actor_id, reason="marked", always=always
            )
            events.record_many([event])
        conv.kind_hint = ""
        if conv.status == Status.NEW:
            conv.waiting_since = conv.waiting_since or conv.last_activity_at
        conv.save(update_fields=["kind", "kind_hint", "waiting_since"])
        if always:
            add_person_sender(conv.mailbox, always, actor_id=actor_id)


def apply_kinds(changes: list[KindChange], *, models: Any = None) -> list[Conversation]:
    """Store the kinds ``madoguchi mail reclassify`` found; returns the conversations moved.

    Hidden conversations that now hold a person's mail go back to new mail, unless a person
    already handled them (not new any more, assigned, or changed by an agent). ``models``
    (with ``Message``, ``Conversation``, ``Event``) lets the migration pass its own.
    """
    Msg, Conv, Ev = models or (Message, Conversation, Event)
    alike: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for change in changes:
        alike[(change.after, change.reason[:120], change.hint)].append(change.message_id)
    for (kind, reason, hint), ids in alike.items():
        Msg.objects.filter(pk__in=ids).update(kind=kind, kind_reason=reason, kind_hint=hint)
    people = {c.conversation_id for c in changes if c.after == ConversationKind.NORMAL}
    touched = Ev.objects.filter(conversation_id__in=people, actor__isnull=False)
    handled = set(touched.values_list("conversation_id", flat=True))
    moved = list(
        Conv.objects.filter(pk__in=people - handled, status=Status.NEW, assignee__isnull=True)
        .exclude(kind=ConversationKind.NORMAL)
        .order_by("pk")
    )
    log = []
    for conv in moved:
        log.append(Ev(type=EventType.CONVERSATION_KIND.value, mailbox_id=conv.mailbox_id,
                      conversation_id=conv.pk, data={"before": conv.kind, "after": "normal",
                                                     "reason": "reclassified"}))  # fmt: skip
        conv.kind = ConversationKind.NORMAL
    Conv.objects.bulk_update(moved, ["kind"])
    if models is None:
        events.record_many(log)
    else:
        Ev.objects.bulk_create(log)
    return moved
