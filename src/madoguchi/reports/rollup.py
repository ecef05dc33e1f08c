"""The reports' rollups: kept in the transaction of each event (``register``), and built
again from the whole event history by ``rebuild`` (``madoguchi reports rebuild``).

Both read the events the same way (``Tally.add``), each event with the state its
conversation had just before it (its tags, when the customer first wrote, whether a person
has replied yet), taken from the events before it: live, from the earlier events of the
batch's conversations; in a rebuild, from the events replayed so far. So a rebuild gives
the rows the live path wrote (tested), unless the mailbox's business hours changed since
(durations are counted in the hours of the day they are computed).

What counts (mailbox totals, the agent who did it, the tags the conversation had):

- ``conversation.created`` (a customer's mail started it): a new conversation;
- ``message.received``: a customer's mail;
- ``message.queued`` / ``approval.requested`` by a person (not an acknowledgement or a
  rule): a reply; the first one in a conversation a customer started is its first
  response, timed in business minutes from the customer's first mail;
- ``conversation.status`` to done: closed, timed likewise (resolution); from done to
  anything else: reopened;
- ``note.added``, ``sla.breached``, ``conversation.tagged``, ``template.used``.

A reply taken back in its undo window still counts (the event history keeps it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from madoguchi.core import events
from madoguchi.core.business_time import BusinessCalendar
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox
from madoguchi.reports.buckets import bucket_of
from madoguchi.reports.models import (
    COUNTS,
    DayTimes,
    DayTotals,
    HourTotals,
    Metric,
    TemplateDay,
)

T = EventType
#: Events that change a conversation's state as the tally reads it.
STATE_TYPES = (T.CONVERSATION_CREATED, T.MESSAGE_RECEIVED, T.MESSAGE_QUEUED,
               T.APPROVAL_REQUESTED, T.CONVERSATION_TAGGED, T.CONVERSATION_UNTAGGED)  # fmt: skip
TYPES = (*STATE_TYPES, T.CONVERSATION_STATUS, T.NOTE_ADDED, T.SLA_BREACHED, T.TEMPLATE_USED)
_VALUES = frozenset(t.value for t in TYPES)
_STATE = frozenset(t.value for t in STATE_TYPES)
DONE = "done"
#: Events replayed at once by ``rebuild``.
CHUNK = 5000


@dataclass
class ConvState:
    tags: set[str] = field(default_factory=set)
    #: When the customer's first mail came (None: we started the conversation).
    first_in: datetime | None = None
    opened: datetime | None = None
    replied: bool = False


Key = tuple[int, datetime, int, str]  # mailbox, hour, agent, tag
TimeKey = tuple[int, object, int, str, int, int]  # mailbox, day, agent, tag, metric, bucket


@dataclass
class Tally:
    """Counts to add, gathered from events, written at once (``flush``)."""

    hours: dict[Key, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    times: dict[TimeKey, int] = field(default_factory=lambda: defaultdict(int))
    templates: dict[tuple[int, object, str], int] = field(default_factory=lambda: defaultdict(int))
    calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    def calendar(self, mailbox_id: int) -> BusinessCalendar:
        if mailbox_id not in self.calendars:
            mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
            self.calendars[mailbox_id] = calendar_for(mailbox or Mailbox())
        return self.calendars[mailbox_id]

    def _count(self, box: int, at: datetime, who: Iterable[tuple[int, str]], **counts: int) -> None:
        hour = at.replace(minute=0, second=0, microsecond=0)
        for agent, tag in who:
            row = self.hours[(box, hour, agent, tag)]
            for name, n in counts.items():
                row[name] = row.get(name, 0) + n

    def _timed(self, box: int, at: datetime, who: list[tuple[int, str]], metric: Metric,
               start: datetime) -> None:  # fmt: skip
        calendar = self.calendar(box)
        minutes = max(0, calendar.minutes_between(start, at))
        name = "first_response" if metric == Metric.FIRST_RESPONSE else "resolution"
        self._count(box, at, who, **{f"{name}s": 1, f"{name}_minutes": minutes})
        day = at.astimezone(calendar.zone).date()
        for agent, tag in who:
            self.times[(box, day, agent, tag, int(metric), bucket_of(minutes))] += 1

    def add(self, event: Event, state: ConvState) -> None:
        """Count ``event`` with its conversation's ``state`` just before it, then move the
        state past it."""
        box, at, data, actor = event.mailbox_id, event.created_at, event.data, event.actor_id
        if box is not None:
            everyone = [(0, "")] + [(0, tag) for tag in sorted(state.tags)]
            person = [(actor, "")] if actor else []
            self._count_event(event.type, box, at, data, everyone=everyone, person=person,
                              state=state)  # fmt: skip
        advance(state, event)

    def _count_event(
        self, kind: str, box: int, at: datetime, data: dict[str, object], *,
        everyone: list[tuple[int, str]], person: list[tuple[int, str]], state: ConvState,
    ) -> None:  # fmt: skip
        if kind == T.CONVERSATION_CREATED:
            self._count(box, at, [(0, "")], conversations=1)
        elif kind == T.MESSAGE_RECEIVED:
            self._count(box, at, [(0, "")], messages_in=1)
        elif kind in (T.MESSAGE_QUEUED, T.APPROVAL_REQUESTED) and person and not data.get("auto"):
            self._count(box, at, everyone + person, replied=1)
            if not state.replied and state.first_in is not None:
                self._timed(box, at, everyone + person, Metric.FIRST_RESPONSE, state.first_in)
        elif kind == T.CONVERSATION_STATUS:
            if data.get("after") == DONE and data.get("before") != DONE:
                self._count(box, at, everyone + person, closed=1)
                start = state.first_in or state.opened
                if start is not None:
                    self._timed(box, at, everyone + person, Metric.RESOLUTION, start)
            elif data.get("before") == DONE and data.get("after") != DONE:
                self._count(box, at, everyone, reopened=1)
        elif kind == T.NOTE_ADDED:
            self._count(box, at, [(0, "")] + person, notes=1)
        elif kind == T.SLA_BREACHED:
            self._count(box, at, everyone, breaches=1)
        elif kind == T.CONVERSATION_TAGGED:
            self._count(box, at, [(0, str(data.get("tag", ""))[:64])], tagged=1)
        elif kind == T.TEMPLATE_USED:
            day = at.astimezone(self.calendar(box).zone).date()
            self.templates[(box, day, str(data.get("name", ""))[:200])] += 1

    def flush(self) -> None:
        zones = {box: self.calendar(box).zone for box, *_ in self.hours}
        _upsert_hours(self.hours, zones)
        _upsert(
            "reports_times", ("mailbox_id", "day", "agent", "tag", "metric", "bucket"), ("count",),
            [(*key, n) for key, n in self.times.items()],
        )  # fmt: skip
        _upsert(
            "reports_templates", ("mailbox_id", "day", "template"), ("uses",),
            [(*key, n) for key, n in self.templates.items()],
        )  # fmt: skip
        self.hours.clear()
        self.times.clear()
        self.templates.clear()


def _upsert_hours(hours: dict[Key, dict[str, int]], zones: dict[int, Any]) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    rows: list[tuple[Any, ...]] = []
    for (box, hour, agent, tag), counts in hours.items():
        local = hour.astimezone(zones[box])
        rows.append((box, adapt(hour), agent, tag, local.date(), local.weekday(), local.hour,
                     *(counts.get(c, 0) for c in COUNTS)))  # fmt: skip
    keys = ("mailbox_id", "hour", "agent", "tag")
    _upsert("reports_hour", keys, COUNTS, rows, also=("day", "weekday", "local_hour"))
    days: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        box, _hour, agent, tag, day = row[:5]
        total = days.setdefault((box, day, agent, tag), [0] * len(COUNTS))
        for i, n in enumerate(row[7:]):
            total[i] += int(n)
    _upsert("reports_day", ("mailbox_id", "day", "agent", "tag"), COUNTS,
            [(*key, *sums) for key, sums in days.items()])  # fmt: skip


def _upsert(
    table: str,
    keys: tuple[str, ...],
    counts: tuple[str, ...],
    rows: list[Any],
    also: tuple[str, ...] = (),
) -> None:
    """Add ``counts`` to the rows of ``keys`` (made when missing, with the ``also`` values
    that follow the keys): one statement for all."""
    if not rows:
        return
    adapt = connection.ops.adapt_datefield_value
    params = [
        tuple(adapt(v) if isinstance(v, date) and not isinstance(v, datetime) else v for v in row)
        for row in rows
    ]
    columns = keys + also + counts
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _states_before(conversations: set[int], first_id: int) -> dict[int, ConvState]:
    """Each conversation's state from its events before ``first_id`` (one query)."""
    states: dict[int, ConvState] = defaultdict(ConvState)
    if not conversations:
        return states
    earlier = (
        Event.objects.filter(
            conversation_id__in=conversations, id__lt=first_id, type__in=list(_STATE)
        )  # fmt: skip
        .only("id", "type", "mailbox_id", "conversation_id", "actor_id", "data", "created_at")
        .order_by("id")
    )
    for event in earlier:
        assert event.conversation_id is not None
        advance(states[event.conversation_id], event)
    return states


def advance(state: ConvState, event: Event) -> None:
    """Move a conversation's ``state`` past ``event``."""
    kind, data = event.type, event.data
    if kind == T.CONVERSATION_CREATED:
        state.opened = state.opened or event.created_at
    elif kind == T.MESSAGE_RECEIVED:
        state.first_in = state.first_in or event.created_at
        state.opened = state.opened or event.created_at
    elif kind in (T.MESSAGE_QUEUED, T.APPROVAL_REQUESTED):
        if event.actor_id and not data.get("auto"):
            state.replied = True
    elif kind == T.CONVERSATION_TAGGED:
        state.tags.add(str(data.get("tag", ""))[:64])
    elif kind == T.CONVERSATION_UNTAGGED:
        state.tags.discard(str(data.get("tag", ""))[:64])


def observe(items: list[Event]) -> None:
    """The live path: count a batch of new events (in the transaction that wrote them)."""
    ordered = sorted(items, key=lambda e: e.pk)
    convs = {e.conversation_id for e in ordered if e.conversation_id is not None}
    states = _states_before(convs, ordered[0].pk)
    tally = Tally()
    for event in ordered:
        tally.add(event, states[event.conversation_id] if event.conversation_id else ConvState())
    tally.flush()


def register() -> None:
    events.observe(TYPES, observe)


def rebuild(*, mailbox_id: int | None = None, progress: object = None) -> int:
    """Build the rollups again from every event (of one mailbox, or all); how many events
    were read. One transaction: readers see the old rows until it commits."""
    where = {"mailbox_id": mailbox_id} if mailbox_id is not None else {}
    read = 0
    with transaction.atomic():
        for model in (HourTotals, DayTotals, DayTimes, TemplateDay):
            model.objects.filter(**where).delete()
        states: dict[int, ConvState] = defaultdict(ConvState)
        tally = Tally()
        after = 0
        while True:
            chunk = list(
                Event.objects.filter(id__gt=after, type__in=list(_VALUES), **where)
                .only(
                    "id", "type", "mailbox_id", "conversation_id", "actor_id", "data", "created_at"
                )  # fmt: skip
                .order_by("id")[:CHUNK]
            )
            if not chunk:
                break
            for event in chunk:
                conv = event.conversation_id
                tally.add(event, states[conv] if conv is not None else ConvState())
            tally.flush()
            read += len(chunk)
            after = chunk[-1].pk
            if callable(progress):
                progress(read)
    return read
