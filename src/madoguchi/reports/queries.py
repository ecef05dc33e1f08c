"""What the reports page shows, read from the rollups (``reports.models``) in a few
queries whatever the period: a year of a mailbox is 8,760 hour rows for its totals.

Periods are local days of the report's time zone: a day, a week (from Monday), a month,
or any span of days; an hour row belongs to the day its hour starts in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.utils import timezone

from madoguchi.conversations.models import Conversation, Status
from madoguchi.reports.buckets import percentile
from madoguchi.reports.models import (
    COUNTS,
    DayTimes,
    DayTotals,
    HourTotals,
    Metric,
    TemplateDay,
)

PERIODS = ("day", "week", "month", "custom")
#: The longest span a custom period may have (days).
MAX_DAYS = 3 * 366
BACKLOG_AGES = ((1, "< 1d"), (3, "1–3d"), (7, "3–7d"), (30, "7–30d"), (None, "> 30d"))
OPEN = (Status.NEW, Status.OPEN, Status.HOLD)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def period_for(kind: str, today: date, zone: ZoneInfo, first: date | None = None,
               last: date | None = None) -> Period:  # fmt: skip
    """The period of ``kind`` that holds ``first`` (or ``today``); custom: first to last."""
    day = first or today
    if kind == "day":
        return Period(day, day, zone)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6), zone)
    if kind == "month":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Period(start, following - timedelta(days=1), zone)
    end = last or day
    if end < day:
        day, end = end, day
    return Period(day, min(end, day + timedelta(days=MAX_DAYS - 1)), zone)


def _dicts(rows: Any) -> list[dict[str, Any]]:
    """``values()`` rows, as plain dicts (their typed form cannot be indexed by a variable)."""
    return [dict(r) for r in rows]


def _days(boxes: list[int], period: Period, **where: Any) -> Any:
    return DayTotals.objects.filter(mailbox_id__in=boxes, day__gte=period.first,
                                    day__lte=period.last, **where)  # fmt: skip


def totals(boxes: list[int], period: Period, *, agent: int = 0, tag: str = "") -> dict[str, int]:
    rows = _days(boxes, period, agent=agent, tag=tag)
    sums = rows.aggregate(**{c: Sum(c) for c in COUNTS})
    return {c: int(sums[c] or 0) for c in COUNTS}


@dataclass(frozen=True)
class Times:
    count: int
    median: float | None
    p90: float | None


def times(boxes: list[int], period: Period, metric: Metric, *, agent: int = 0,
          tag: str = "") -> Times:  # fmt: skip
    """How long it took, in business minutes (from the daily histograms)."""
    rows = (
        DayTimes.objects.filter(
            mailbox_id__in=boxes,
            metric=metric,
            agent=agent,
            tag=tag,
            day__gte=period.first,
            day__lte=period.last,
        )  # fmt: skip
        .values("bucket")
        .annotate(n=Sum("count"))
    )
    histogram = {int(r["bucket"]): int(r["n"]) for r in rows}
    return Times(sum(histogram.values()), percentile(histogram, 0.5), percentile(histogram, 0.9))


def per_agent(boxes: list[int], period: Period) -> dict[int, dict[str, int]]:
    rows = (
        _days(boxes, period, tag="")
        .exclude(agent=0)
        .values("agent")
        .annotate(**{c: Sum(c) for c in COUNTS})
    )
    return {int(r["agent"]): {c: int(r[c] or 0) for c in COUNTS} for r in _dicts(rows)}


def per_tag(boxes: list[int], period: Period) -> dict[str, dict[str, int]]:
    rows = (
        _days(boxes, period, agent=0)
        .exclude(tag="")
        .values("tag")
        .annotate(**{c: Sum(c) for c in COUNTS})
    )
    return {str(r["tag"]): {c: int(r[c] or 0) for c in COUNTS} for r in _dicts(rows)}


def daily(
    boxes: list[int], period: Period, *, agent: int = 0, tag: str = ""
) -> list[tuple[date, dict[str, int]]]:
    """Every count by local day (days without rows too)."""
    days: dict[date, dict[str, int]] = {d: dict.fromkeys(COUNTS, 0) for d in period.days}
    rows = (
        _days(boxes, period, agent=agent, tag=tag)
        .values("day")
        .annotate(**{c: Sum(c) for c in COUNTS})
    )
    for row in _dicts(rows):
        if row["day"] in days:
            days[row["day"]] = {c: int(row[c] or 0) for c in COUNTS}
    return list(days.items())


def heatmap(boxes: list[int], period: Period) -> list[list[int]]:
    """New conversations by weekday (Monday first) and local hour."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        HourTotals.objects.filter(
            mailbox_id__in=boxes, hour__gte=period.start, hour__lt=period.end, agent=0, tag=""
        )  # fmt: skip
        .values_list("weekday", "local_hour")
        .annotate(n=Sum("conversations"))
    )
    for weekday, hour, n in rows:
        grid[weekday][hour] += int(n or 0)
    return grid


def backlog(boxes: list[int], now: datetime | None = None) -> list[tuple[str, int]]:
    """Conversations still open now, by how long ago they started."""
    now = now or timezone.now()
    counts: dict[str, Count] = {}
    older = None
    for i, (days, _label) in enumerate(BACKLOG_AGES):
        q = Q()
        if days is not None:
            q &= Q(created_at__gt=now - timedelta(days=days))
        if older is not None:
            q &= Q(created_at__lte=now - timedelta(days=older))
        counts[f"age{i}"] = Count("pk", filter=q)
        older = days
    got = Conversation.objects.filter(mailbox_id__in=boxes, status__in=OPEN).aggregate(**counts)
    return [(label, int(got[f"age{i}"] or 0)) for i, (_days, label) in enumerate(BACKLOG_AGES)]


def template_usage(boxes: list[int], period: Period) -> list[tuple[str, int]]:
    rows = (
        TemplateDay.objects.filter(
            mailbox_id__in=boxes, day__gte=period.first, day__lte=period.last
        )  # fmt: skip
        .values("template")
        .annotate(n=Sum("uses"))
        .order_by("-n", "template")[:50]
    )
    return [(str(r["template"]), int(r["n"])) for r in rows]


@dataclass(frozen=True)
class Load:
    """One agent's conversations now (``agent`` 0: nobody's)."""

    agent: int
    #: New or open, the customer waiting for us.
    open: int
    #: On hold, or open with our reply last (waiting for the customer).
    waiting: int
    #: Past their due time (SLA) and not done.
    overdue: int


def workload(boxes: list[int], now: datetime | None = None) -> list[Load]:
    """Who has how many conversations right now (one query), busiest first."""
    now = now or timezone.now()
    ours = Q(status__in=[Status.NEW, Status.OPEN], waiting_since__isnull=False)
    theirs = Q(status=Status.HOLD) | Q(status=Status.OPEN, waiting_since__isnull=True)
    late = Q(status__in=OPEN, due_at__lt=now)
    rows = (
        Conversation.objects.filter(mailbox_id__in=boxes, status__in=OPEN, kind="normal")
        .values("assignee_id")
        .annotate(
            open=Count("pk", filter=ours),
            waiting=Count("pk", filter=theirs),
            overdue=Count("pk", filter=late),
        )  # fmt: skip
    )
    loads = [Load(int(r["assignee_id"] or 0), r["open"], r["waiting"], r["overdue"])
             for r in _dicts(rows)]  # fmt: skip
    return sorted(loads, key=lambda load: (load.agent == 0, -load.open, -load.overdue))
