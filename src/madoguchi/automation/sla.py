"""SLA targets (対応期限): first response and resolution, counted in business time.

A mailbox has targets (``SlaTarget`` without a tag) and may have stricter ones for tags
(VIP): a tag's target wins over the mailbox's, and of several tags the strictest wins,
each kind of target on its own. Time counts only while the mailbox is open
(``mailboxes.hours.calendar_for(mailbox).add``: weekly hours, public holidays, days off).

One target is due at a time (``Conversation.due_at`` / ``due_kind``, written only through
``conversations.sla_state``):

- a customer's new conversation: the first response is due that many business minutes
  after their mail; without a first-response target, the resolution;
- our first reply (a person's, queued or sent: ``message.queued`` / ``message.sent``
  without ``auto``): the resolution becomes due, counted from the start (the
  conversation's creation, or the mail that reopened it); taking that reply back
  makes the first response due again;
- done, spam, trash: nothing is due; a customer writing again after done starts over;
- a tag added or removed: the current target is counted again with the new minutes.

``check_breaches`` (from the clock) records each target missed once (``sla.breached``,
which tells the mailbox's managers through ``notifications``), however late it runs.
Settings changes apply to conversations that start afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from madoguchi.automation.models import SlaTarget
from madoguchi.conversations import sla_state
from madoguchi.conversations.models import Conversation, Direction, Kind, Message, Status
from madoguchi.core import events
from madoguchi.core.business_time import BusinessCalendar
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival

#: Statuses in which a target counts (on hold too: the customer still waits for us).
ACTIVE = (Status.NEW, Status.OPEN, Status.HOLD)
CLOSED = frozenset({Status.DONE.value, Status.SPAM.value, Status.TRASH.value})
FIRST_RESPONSE, RESOLUTION = sla_state.FIRST_RESPONSE, sla_state.RESOLUTION
#: ``check_breaches`` records at most this many in one transaction.
BATCH = 200
_REOPENED = "customer replied"


@dataclass(frozen=True, slots=True)
class Targets:
    """Business minutes allowed (None: no such target)."""

    first_response: int | None = None
    resolution: int | None = None

    @property
    def any(self) -> bool:
        return self.first_response is not None or self.resolution is not None


def strictest(mailbox: Targets | None, tags: Iterable[Targets]) -> Targets:
    """The targets of a conversation: per kind, the smallest of its tags' targets, else
    the mailbox's."""
    tags = list(tags)
    own = mailbox or Targets()
    first = [t.first_response for t in tags if t.first_response is not None]
    resolution = [t.resolution for t in tags if t.resolution is not None]
    return Targets(
        min(first) if first else own.first_response,
        min(resolution) if resolution else own.resolution,
    )


def due_for(
    calendar: BusinessCalendar, start: datetime, targets: Targets, *, replied: bool
) -> tuple[datetime | None, str]:
    """What is due when, for a conversation that started at ``start`` and was answered by
    us (``replied``) or not yet: (None, "") when nothing is (or the mailbox never opens)."""
    if not replied and targets.first_response is not None:
        due, kind = calendar.add(start, targets.first_response), FIRST_RESPONSE
    elif targets.resolution is not None:
        due, kind = calendar.add(start, targets.resolution), RESOLUTION
    else:
        return None, ""
    return (due, kind) if due is not None else (None, "")


def targets_of(conversations: list[Conversation]) -> dict[int, Targets]:
    """Each conversation's targets, in two queries for any number of them."""
    rows = list(SlaTarget.objects.filter(mailbox_id__in={c.mailbox_id for c in conversations}))
    if not rows:
        return {c.pk: Targets() for c in conversations}
    own = {r.mailbox_id: _targets(r) for r in rows if r.tag_id is None}
    by_tag = {(r.mailbox_id, r.tag_id): _targets(r) for r in rows if r.tag_id is not None}
    tagged: dict[int, list[int]] = {c.pk: [] for c in conversations}
    if by_tag:
        through = Conversation.tags.through.objects.filter(
            conversation_id__in=list(tagged), tag_id__in={tag for _, tag in by_tag}
        )
        for conv_id, tag_id in through.values_list("conversation_id", "tag_id"):
            tagged[conv_id].append(tag_id)
    return {
        c.pk: strictest(
            own.get(c.mailbox_id),
            [by_tag[(c.mailbox_id, t)] for t in tagged[c.pk] if (c.mailbox_id, t) in by_tag],
        )
        for c in conversations
    }


def _targets(row: SlaTarget) -> Targets:
    return Targets(row.first_response_minutes, row.resolution_minutes)


class _Calendars:
    """One calendar per mailbox for the length of one call."""

    def __init__(self) -> None:
        self._known: dict[int, BusinessCalendar] = {}

    def of(self, mailbox: Mailbox) -> BusinessCalendar:
        if mailbox.pk not in self._known:
            self._known[mailbox.pk] = calendar_for(mailbox)
        return self._known[mailbox.pk]


# --- intake ---------------------------------------------------------------------------


def set_targets(arrivals: list[Arrival]) -> None:
    """Set the due time of the batch's conversations: those the batch started, and those a
    customer's mail reopened after they were done. Others keep what is due."""
    mailboxes = {a.conversation.mailbox_id for a in arrivals}
    if not SlaTarget.objects.filter(mailbox_id__in=mailboxes).exists():
        return  # the usual case of a mailbox without targets: one query
    starts: dict[int, tuple[Conversation, datetime]] = {}
    reopened = _reopened(arrivals)
    for arrival in arrivals:
        conv = arrival.conversation
        if conv.pk not in starts and (arrival.new_conversation or conv.pk in reopened):
            starts[conv.pk] = (conv, arrival.message.received_at)
    if not starts:
        return
    if reopened:
        sla_state.restart(reopened)
    counting = _counting([conv for conv, _ in starts.values()])
    targets = targets_of(counting)
    calendars = _Calendars()
    due: dict[int, tuple[datetime | None, str]] = {}
    for conv in counting:
        start = starts[conv.pk][1]
        if targets[conv.pk].any:
            due[conv.pk] = due_for(calendars.of(conv.mailbox), start, targets[conv.pk],
                                   replied=False)  # fmt: skip
    sla_state.set_due(due)


def _counting(conversations: list[Conversation]) -> list[Conversation]:
    """Of ``conversations``, those a target counts for now (a person's mail, not closed by
    a rule of this batch): their status and kind read again."""
    now = dict(
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).values_list(
            "pk", "status"
        )
    )
    return [c for c in conversations if now.get(c.pk) in ACTIVE and c.kind == Kind.NORMAL]


def _reopened(arrivals: list[Arrival]) -> set[int]:
    """The conversations that a customer's mail of this batch reopened after they were
    done (their ``conversation.status`` event was written with the batch's mail)."""
    candidates = {
        a.conversation.pk: a.message.received_at
        for a in arrivals
        if not a.new_conversation and a.conversation.due_kind == ""
    }
    if not candidates:
        return set()
    found = Event.objects.filter(
        conversation_id__in=list(candidates),
        type=EventType.CONVERSATION_STATUS.value,
        data__before=Status.DONE.value,
        data__reason=_REOPENED,
        created_at__gte=min(candidates.values()),
    ).values_list("conversation_id", "created_at")
    return {pk for pk, at in found if pk is not None and at >= candidates[pk]}


# --- what happens to a conversation ---------------------------------------------------


def register() -> None:
    """Observe our replies (the first response meets the first-response target), take-backs,
    status changes (done, spam and trash clear the target) and tags (VIP)."""
    events.observe([EventType.MESSAGE_QUEUED, EventType.MESSAGE_SENT], replied)
    events.observe([EventType.MESSAGE_CANCELLED], taken_back)
    events.observe([EventType.CONVERSATION_STATUS], status_changed)
    events.observe([EventType.CONVERSATION_TAGGED, EventType.CONVERSATION_UNTAGGED], retagged)


def replied(items: list[Event]) -> None:
    """A person's reply to the customer was queued (or sent, after an approval): the first
    one of a round meets the first-response target; the resolution is due next."""
    people = {e.data["message"]: e for e in items if not e.data.get("auto")}
    if not people:
        return
    messages = Message.objects.filter(
        pk__in=list(people), direction=Direction.OUT, author__isnull=False
    ).select_related("conversation__mailbox")
    for message in messages:
        if not _answers_customer(message):
            continue
        event = people[message.pk]
        queued = event.type == EventType.MESSAGE_QUEUED.value
        conv = message.conversation
        sla_state.first_replied(conv.pk, message.received_at if queued else event.created_at)
        if conv.due_kind == FIRST_RESPONSE:
            conv.first_replied_at = conv.first_replied_at or message.received_at
            _recount([conv])


def _answers_customer(message: Message) -> bool:
    """A reply in the thread, or mail to someone who wrote in (a forward to a colleague
    answers nobody)."""
    if message.in_reply_to:
        return True
    senders = set(
        message.conversation.messages.filter(direction=Direction.IN).values_list(
            "from_email", flat=True
        )
    )
    return any(email.lower() in {s.lower() for s in senders} for _, email in message.to)


def taken_back(items: list[Event]) -> None:
    """Undo of the reply that met the first response: it is due again."""
    messages = Message.objects.filter(
        pk__in=[e.data["message"] for e in items], author__isnull=False
    ).select_related("conversation__mailbox")
    for message in messages:
        if sla_state.taken_back(message.conversation_id, message.received_at):
            conv = message.conversation
            conv.first_replied_at = None
            _recount([conv])


def status_changed(items: list[Event]) -> None:
    """Done, spam and trash: nothing is due any more."""
    closed = {e.conversation_id for e in items if e.data.get("after") in CLOSED}
    if closed:
        sla_state.clear(pk for pk in closed if pk is not None)


def retagged(items: list[Event]) -> None:
    """A tag with targets of its own came or went: what is due is counted again. One query
    when no tag of ``items`` has targets (the usual case, also in intake)."""
    names = {e.data["tag"] for e in items}
    mailboxes = {e.mailbox_id for e in items if e.mailbox_id is not None}
    if not SlaTarget.objects.filter(mailbox_id__in=mailboxes, tag__name__in=names).exists():
        return
    ids = {e.conversation_id for e in items if e.conversation_id is not None}
    convs = Conversation.objects.filter(pk__in=ids, status__in=ACTIVE, kind=Kind.NORMAL)
    with_mail = set(
        Message.objects.filter(conversation_id__in=ids, direction=Direction.IN).values_list(
            "conversation_id", flat=True
        )
    )
    _recount([c for c in convs.select_related("mailbox") if c.pk in with_mail])


def _recount(conversations: list[Conversation]) -> None:
    """Count what is due again from each conversation's start (``first_replied_at`` says
    whether our first reply of the round went out)."""
    if not conversations:
        return
    targets = targets_of(conversations)
    calendars = _Calendars()
    due: dict[int, tuple[datetime | None, str]] = {}
    for conv in conversations:
        start = _round_start(conv)
        calendar = calendars.of(conv.mailbox)
        replied = conv.first_replied_at is not None
        due[conv.pk] = due_for(calendar, start, targets[conv.pk], replied=replied)
    sla_state.set_due(due)


def _round_start(conv: Conversation) -> datetime:
    """When the customer's current round began: the conversation's creation, or the
    latest mail that reopened it after it was done."""
    reopened = (
        Event.objects.filter(
            conversation_id=conv.pk,
            type=EventType.CONVERSATION_STATUS.value,
            data__before=Status.DONE.value,
            data__reason=_REOPENED,
        )
        .order_by("-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return reopened or conv.created_at


# --- the clock ------------------------------------------------------------------------


def check_breaches(now: datetime) -> int:
    """Record each target missed by ``now`` once (``sla.breached``). How many.

    However late it runs (the worker was down), each missed target is recorded once:
    ``sla_state.breached`` marks it under a condition, so two clocks never both record it.
    """
    recorded = 0
    while True:
        rows = list(
            Conversation.objects.filter(due_at__lte=now, breached_at=None, status__in=ACTIVE)
            .exclude(due_kind="")
            .order_by("due_at", "pk")
            .values_list("pk", "mailbox_id", "due_at", "due_kind")[:BATCH]
        )
        with transaction.atomic():
            missed = [
                events.build(EventType.SLA_BREACHED, mailbox_id=mailbox_id, conversation_id=pk,
                             target=kind, due=due.isoformat())
                for pk, mailbox_id, due, kind in rows
                if due is not None and sla_state.breached(pk, now)
            ]  # fmt: skip
            events.record_many(missed)  # the managers are told (``notifications``)
        recorded += len(missed)
        if len(rows) < BATCH or not missed:
            return recorded
