"""Whether an agent takes new work: 対応可能 / 離席, their working hours and their cap.

Automatic assignment (``automation.assignment``) gives conversations only to an agent who is
available (``Agent.available``), inside their working hours (``Agent.working_hours`` in
``Agent.time_zone``; none set: always) and under their cap of open conversations. An absent
agent's customers who write again are handed to someone else after a while (引き継ぎ):
``away_from`` says since when an agent has been away without a break.

The writes here (``set_available``, ``set_working_hours``) are the actions of this part of
``accounts``; a change of availability is an ``agent.availability`` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from madoguchi.accounts.models import Agent
from madoguchi.core import events
from madoguchi.core.business_time import BusinessCalendar, WeeklyHours
from madoguchi.core.event_types import EventType

#: The ``reason`` of an ``agent.availability`` event: the agent themselves, or a manager.
SELF = "self"
MANAGER = "manager"


def calendar_of(agent: Agent) -> BusinessCalendar | None:
    """The agent's working hours as a calendar; None when they set none (always working).

    Hours that no longer parse (a time zone gone from the system) count as none: the agent's
    availability alone decides, rather than nobody ever getting work.
    """
    if not agent.working_hours:
        return None
    try:
        calendar = BusinessCalendar.build(agent.time_zone, agent.working_hours)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None
    return None if calendar.weekly.empty else calendar


def working(agent: Agent, at: datetime) -> bool:
    """Inside the agent's working hours at ``at`` (always, when they set none)."""
    calendar = calendar_of(agent)
    return calendar is None or calendar.is_open(at)


def takes_work(agent: Agent, at: datetime) -> bool:
    """Active, 対応可能 and working at ``at``: automatic assignment may choose them."""
    return agent.user.is_active and agent.available and working(agent, at)


#: Away "since ever": deactivated, or 離席 from before ``away_since`` was kept.
EVER = datetime(1, 1, 1, tzinfo=UTC)


def away_from(agent: Agent, at: datetime) -> datetime | None:
    """Since when ``agent`` has been away without a break, as of ``at`` (None: not away).

    Away: deactivated (since ``EVER``); 離席 (since ``away_since``); outside their working
    hours (since those last ended). Both at once: since the earlier, as both last until now.
    """
    if not agent.user.is_active:
        return EVER
    starts = []
    if not agent.available:
        starts.append(agent.away_since or EVER)
    calendar = calendar_of(agent)
    if calendar is not None and not calendar.is_open(at):
        starts.append(last_close(calendar, at) or EVER)
    return min(starts, default=None)


def last_close(calendar: BusinessCalendar, at: datetime) -> datetime | None:
    """When ``calendar`` last closed at or before ``at`` (an agent's week repeats, so a week
    and a day back is enough; None: not open in that time)."""
    local = at.astimezone(calendar.zone)
    for back in range(8):
        day = local.date() - timedelta(days=back)
        ends = [
            datetime.combine(day + timedelta(days=1), time(0), calendar.zone)
            if end == time.max
            else datetime.combine(day, end, calendar.zone)
            for _start, end in calendar.spans_on(day)
        ]
        if past := [end for end in ends if end <= local]:
            return max(past)
    return None


def set_available(agent: Agent, available: bool, *, actor_id: int | None, reason: str) -> bool:
    """Make ``agent`` 対応可能 (True) or 離席 (False); whether anything changed.

    ``away_since`` keeps when they left (the handover counts from it); one
    ``agent.availability`` event per change, ``reason`` ``SELF`` or ``MANAGER``.
    """
    with transaction.atomic():
        locked = Agent.objects.select_for_update().filter(pk=agent.pk).first()
        if locked is None:
            return False
        if locked.available == available:  # as another tab or a manager already set it
            agent.available, agent.away_since = locked.available, locked.away_since
            return False
        agent.available = available
        agent.away_since = None if available else timezone.now()
        agent.save(update_fields=["available", "away_since"])
        events.record(
            EventType.AGENT_AVAILABILITY,
            actor_id=actor_id,
            agent=agent.user_id,
            available=available,
            reason=reason,
        )
    return True


def set_working_hours(
    agent: Agent,
    *,
    working_hours: Mapping[str, Sequence[Sequence[str]]],
    max_open: int | None,
) -> None:
    """The agent's weekly working hours (``core.business_time.WeeklyHours`` data, checked
    here: ``ValueError`` says what is wrong) and their cap of open conversations."""
    hours = WeeklyHours.parse(working_hours).as_data()
    if max_open is not None and max_open < 0:
        raise ValueError("the cap cannot be negative")
    agent.working_hours, agent.max_open = hours, max_open
    agent.save(update_fields=["working_hours", "max_open"])
