"""Snooze and follow-up: conversation state that time changes (docs/automation/snooze.md).

Like ``actions``, this module writes a conversation's fields and records their events;
``automation.clock`` and the triage pages call it. A snoozed conversation is on hold
(保留) with ``snoozed_until`` set: it leaves its tab until then and comes back to 新着
(``back_to="new"``, status new, unread, its assignee kept) or to its owner
(``back_to="owner"``, in progress, unread), or earlier when the customer writes
(``conversations.actions`` clears the snooze on arrival). A follow-up ("remind me if no
answer in N business days") brings the conversation back, unread and in progress, at its
time unless the customer answered first.

The snooze, wake and follow-up events stand for the status change they make: no
``conversation.status`` event is recorded with them (one timeline line, not two).

Every due item is taken under a row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite runs one writing transaction at a time) and its time cleared in the
same transaction, so a tick that runs late wakes each conversation once, and two workers
at the same moment never both do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from madoguchi.conversations.models import Conversation, Direction, Status
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.hours import calendar_for
from madoguchi.mailboxes.models import Mailbox

#: Where a snoozed conversation goes when it wakes.
BACK_TO = ("new", "owner")
#: Why it woke: its time came, the customer wrote, an agent woke it.
REASONS = ("time", "customer", "manual")
#: The snooze presets of the conversation header (``custom`` takes a date and time).
PRESETS = ("later", "tomorrow", "next_business_day", "next_week")
#: "Later today": this much from now.
LATER = timedelta(hours=3)
#: The hour of "tomorrow", "next business day" and "next week" (local time).
MORNING = time(9, 0)
#: Woken more than this after its time: the event says ``late`` (the worker was down).
LATE_AFTER = timedelta(minutes=5)
#: The furthest ahead a snooze or a follow-up may be set.
FURTHEST = timedelta(days=366)
#: Rows one transaction of the clock takes at most (it loops until none are due).
BATCH = 200

_FIELDS = ["status", "closed_at", "unread", "snoozed_until", "snooze_back_to"]


def is_snoozed(conv: Conversation) -> bool:
    """On hold until a time (a conversation moved out of hold by hand is not snoozed)."""
    return conv.snoozed_until is not None and conv.status == Status.HOLD


def snooze(conv: Conversation, *, until: datetime, back_to: str, actor_id: int) -> None:
    """Put ``conv`` aside until ``until``; it wakes to 新着 ("new") or its owner ("owner").

    Caller checked ``actor_id`` may edit it. Snoozing again moves the time.
    """
    if back_to not in BACK_TO:
        raise ValueError(f"back_to: {back_to!r} is not one of {BACK_TO}")
    if timezone.is_naive(until):
        raise ValueError("until: a time without its time zone")
    with transaction.atomic():
        conv.status, conv.closed_at = Status.HOLD, None
        conv.snoozed_until, conv.snooze_back_to = until, back_to
        conv.save(update_fields=["status", "closed_at", "snoozed_until", "snooze_back_to"])
        events.record(
            EventType.CONVERSATION_SNOOZED,
            mailbox_id=conv.mailbox_id,
            conversation_id=conv.pk,
            actor_id=actor_id,
            until=until.isoformat(),
            back_to=back_to,
        )


def wake(conv: Conversation, *, reason: str, actor_id: int | None = None) -> bool:
    """Wake a snoozed conversation now ("time", "customer", "manual"). Woken or not.

    A conversation no longer on hold (someone changed its status) only loses its snooze
    time: it is where someone put it.
    """
    if reason not in REASONS:
        raise ValueError(f"reason: {reason!r} is not one of {REASONS}")
    with transaction.atomic():
        fresh = _due(Conversation.objects.filter(pk=conv.pk, snoozed_until__isnull=False)).first()
        if fresh is None:
            return False
        event = _wake_one(fresh, reason=reason, actor_id=actor_id, late=False)
        fresh.save(update_fields=_FIELDS)
        events.record_many([event] if event else [])
    for name in _FIELDS:
        setattr(conv, name, getattr(fresh, name))
    return event is not None


def wake_due(now: datetime) -> int:
    """Wake every conversation whose snooze ended by ``now``, each once. How many."""
    woken = 0
    while True:
        with transaction.atomic():
            rows = _due(Conversation.objects.filter(snoozed_until__lte=now))
            found = list(rows.order_by("snoozed_until", "pk")[:BATCH])
            log = [
                e
                for conv in found
                if (e := _wake_one(conv, reason="time", late=_late(conv, now))) is not None
            ]
            Conversation.objects.bulk_update(found, _FIELDS)
            events.record_many(log)
        woken += len(log)
        if len(found) < BATCH:
            return woken


def _due(rows: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """``rows`` locked for this transaction; rows another worker holds are left to it."""
    return rows.select_for_update(skip_locked=True)


def _late(conv: Conversation, now: datetime) -> bool:
    return conv.snoozed_until is not None and now - conv.snoozed_until > LATE_AFTER


def _wake_one(
    conv: Conversation, *, reason: str, actor_id: int | None = None, late: bool = False
) -> Event | None:
    """Bring ``conv`` (in memory) back from its snooze; the event, or None if it was no
    longer on hold (its snooze time is cleared either way). The caller saves."""
    snoozed = is_snoozed(conv)
    if snoozed:
        conv.status = woken_status(conv)
        conv.unread = True
    conv.snoozed_until, conv.snooze_back_to = None, ""
    if not snoozed:
        return None
    return events.build(
        EventType.CONVERSATION_WOKEN,
        mailbox_id=conv.mailbox_id,
        conversation_id=conv.pk,
        actor_id=actor_id,
        reason=reason,
        **({"late": True} if late else {}),
    )


def woken_status(conv: Conversation) -> Status:
    """Where a snoozed conversation goes: back to its owner, or to 新着 (also when nobody
    owns it)."""
    if conv.snooze_back_to == "owner" and conv.assignee_id is not None:
        return Status.OPEN
    return Status.NEW


def set_follow_up(
    conv: Conversation, *, at: datetime, user_id: int, message_id: int | None = None
) -> None:
    """Remind ``user_id`` at ``at`` unless the customer answers first.

    ``message_id``: the reply it follows (by default the conversation's newest reply).
    """
    if timezone.is_naive(at):
        raise ValueError("at: a time without its time zone")
    if message_id is None:
        message_id = _newest_reply(conv)
    with transaction.atomic():
        conv.follow_up_at, conv.follow_up_by_id = at, user_id
        conv.save(update_fields=["follow_up_at", "follow_up_by"])
        events.record(
            EventType.FOLLOW_UP_SET,
            mailbox_id=conv.mailbox_id,
            conversation_id=conv.pk,
            actor_id=user_id,
            at=at.isoformat(),
            to=user_id,
            **({"message": message_id} if message_id else {}),
        )


def _newest_reply(conv: Conversation) -> int | None:
    newest = conv.messages.filter(direction=Direction.OUT).order_by("-pk").values("pk").first()
    return newest["pk"] if newest else None


def clear_follow_up(conv: Conversation) -> bool:
    """No reminder after all (the one who set it, or anyone who may edit it). Cleared or not."""
    with transaction.atomic():
        cleared = Conversation.objects.filter(pk=conv.pk, follow_up_at__isnull=False).update(
            follow_up_at=None, follow_up_by=None
        )
    conv.follow_up_at, conv.follow_up_by_id = None, None
    return bool(cleared)


def follow_ups_due(now: datetime) -> int:
    """Raise every follow-up due by ``now`` with no answer since, each once. How many.

    The customer's mail clears a follow-up when it arrives, so one still set has had no
    answer: ``follow_up.due`` tells whoever set it (their assignee if they are gone), and
    the conversation comes back unread, in progress (out of its snooze too).
    """
    raised = 0
    while True:
        with transaction.atomic():
            rows = _due(Conversation.objects.filter(follow_up_at__lte=now))
            found = list(rows.order_by("follow_up_at", "pk")[:BATCH])
            log = list(_raise_all(found))
            Conversation.objects.bulk_update(found, [*_FIELDS, "follow_up_at", "follow_up_by"])
            events.record_many(log)
        raised += len(found)
        if len(found) < BATCH:
            return raised


def _raise_all(found: list[Conversation]) -> Iterable[Event]:
    for conv in found:
        at, to = conv.follow_up_at, conv.follow_up_by_id or conv.assignee_id
        conv.follow_up_at, conv.follow_up_by_id = None, None
        conv.snoozed_until, conv.snooze_back_to = None, ""
        if conv.status in (Status.DONE, Status.HOLD):
            conv.status, conv.closed_at = Status.OPEN, None
        conv.unread = True
        assert at is not None
        yield events.build(
            EventType.FOLLOW_UP_DUE,
            mailbox_id=conv.mailbox_id,
            conversation_id=conv.pk,
            to=to,
            at=at.isoformat(),
        )


# --- when a preset ends -------------------------------------------------------------------


def preset_time(preset: str, *, now: datetime, mailbox: Mailbox) -> datetime:
    """When a snooze preset ends, seen from ``now`` in the current time zone (the agent's).

    ``later``: in three hours; ``tomorrow``: 9:00 tomorrow; ``next_business_day``: 9:00 on
    the mailbox's next open day (its hours, public holidays and days off; its opening time
    if it opens later), tomorrow 9:00 if it is never open; ``next_week``: Monday 9:00.
    """
    local = timezone.localtime(now)
    if preset == "later":
        return now + LATER
    if preset == "tomorrow":
        return _at_morning(local, days=1)
    if preset == "next_week":
        return _at_morning(local, days=7 - local.weekday())
    if preset == "next_business_day":
        return next_business_morning(now, mailbox) or _at_morning(local, days=1)
    raise ValueError(f"preset: {preset!r} is not one of {PRESETS}")


def _at_morning(local: datetime, *, days: int) -> datetime:
    day = local.date() + timedelta(days=days)
    return datetime.combine(day, MORNING, tzinfo=local.tzinfo)


def next_business_morning(now: datetime, mailbox: Mailbox) -> datetime | None:
    """9:00 (or the opening) of the mailbox's first open day after today, in its zone."""
    hours = calendar_for(mailbox)
    local = now.astimezone(hours.zone)
    for offset in range(1, 60):
        day = local.date() + timedelta(days=offset)
        if hours.spans_on(day):
            return hours.next_open(datetime.combine(day, MORNING, tzinfo=hours.zone))
    return None


def business_days_later(now: datetime, days: int, mailbox: Mailbox) -> datetime:
    """``days`` open days of the mailbox after ``now`` (calendar days if it is never open)."""
    found = calendar_for(mailbox).add_days(now, days)
    return found or now + timedelta(days=days)


def within_reach(at: datetime, *, now: datetime) -> bool:
    """A time a snooze or follow-up may be set to: in the future, within a year."""
    return now < at <= now + FURTHEST
