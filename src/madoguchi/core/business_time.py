"""Business time (営業時間): weekly hours in a time zone, public holidays and a team's days off.

Pure Python (no Django): ``mailboxes.hours.calendar_for`` builds one for a mailbox, and the
SLA targets, the "remind me in N business days" follow-ups, the out-of-hours
acknowledgement and the agents' working hours all count with it. Public holidays come from
the maintained ``holidays`` package (Japan's 振替休日 and 国民の休日 included), never from a
list of our own.

Every walk over days is bounded (``MAX_DAYS``): a calendar that is never open answers None
instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The furthest a walk looks ahead for an open minute (ten years of days).
MAX_DAYS = 3660

Span = tuple[time, time]


_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?")


def _clock(text: str) -> time:
    """``"9:00"``, ``"09:30"``, ``"9"`` or ``"24:00"`` (the end of the day, ``time.max``)."""
    found = _CLOCK.fullmatch(str(text).strip())
    if found is None:
        raise ValueError(f"not a time of day: {text!r}")
    h, m = int(found.group(1)), int(found.group(2) or 0)
    if h == 24 and m == 0:
        return time.max
    if h > 23 or m > 59:
        raise ValueError(f"not a time of day: {text!r}")
    return time(h, m)


def _pair(day: str, span: object) -> Span:
    if isinstance(span, str | bytes) or not isinstance(span, Sequence) or len(span) != 2:
        raise ValueError(f"{day}: a span is two times of day, from and to")
    return _clock(str(span[0])), _clock(str(span[1]))


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open spans per weekday (0 is Monday), each sorted and not overlapping."""

    spans: tuple[tuple[Span, ...], ...] = ((),) * 7

    @classmethod
    def parse(cls, data: Mapping[str, Sequence[Sequence[str]]] | None) -> WeeklyHours:
        """From ``{"mon": [["09:00", "18:00"]], ...}`` (a day not named is closed).
        ``ValueError`` names what is wrong."""
        days: list[tuple[Span, ...]] = []
        data = data or {}
        if not isinstance(data, Mapping):
            raise ValueError("weekly hours are a mapping of weekdays to spans")
        if unknown := set(data) - set(DAYS):
            raise ValueError(f"unknown days: {', '.join(sorted(map(str, unknown)))}")
        for day in DAYS:
            given = data.get(day) or ()
            if isinstance(given, str | bytes) or not isinstance(given, Sequence):
                raise ValueError(f"{day}: a list of spans")
            spans = sorted(_pair(day, span) for span in given)
            for i, (start, end) in enumerate(spans):
                if end <= start:
                    raise ValueError(f"{day}: {_text(start)} is not before {_text(end)}")
                if i + 1 < len(spans) and spans[i + 1][0] < end:
                    raise ValueError(f"{day}: hours overlap")
            days.append(tuple(spans))
        return cls(tuple(days))

    def as_data(self) -> dict[str, list[list[str]]]:
        return {
            DAYS[i]: [[_text(a), _text(b)] for a, b in spans]
            for i, spans in enumerate(self.spans)
            if spans
        }

    @property
    def empty(self) -> bool:
        return not any(self.spans)


def _text(t: time) -> str:
    return "24:00" if t == time.max else f"{t:%H:%M}"


@dataclass(frozen=True, slots=True)
class DayOff:
    name: str
    start: date
    end: date
    yearly: bool = False

    def covers(self, day: date) -> bool:
        if not self.yearly:
            return self.start <= day <= self.end
        key, first, last = (day.month, day.day), _md(self.start), _md(self.end)
        return first <= key <= last if first <= last else key >= first or key <= last


def _md(day: date) -> tuple[int, int]:
    return (day.month, day.day)


@lru_cache(maxsize=64)
def _public(country: str, year: int) -> Mapping[date, str]:
    try:
        found = holidays.country_holidays(country, years=year, language="ja")
    except (NotImplementedError, KeyError):
        try:
            found = holidays.country_holidays(country, years=year)
        except (NotImplementedError, KeyError):
            return {}
    return dict(found)


def countries() -> list[str]:
    """The country codes whose public holidays are known."""
    return sorted(holidays.list_supported_countries())


@dataclass(frozen=True)
class BusinessCalendar:
    """When a mailbox (or an agent) is open: weekly hours in ``zone``, minus holidays."""

    zone: ZoneInfo
    weekly: WeeklyHours
    holiday_country: str = ""
    days_off: tuple[DayOff, ...] = field(default_factory=tuple)

    @classmethod
    def build(
        cls,
        zone: str,
        weekly: Mapping[str, Sequence[Sequence[str]]] | None,
        *,
        holiday_country: str = "",
        days_off: Iterable[DayOff] = (),
    ) -> BusinessCalendar:
        return cls(ZoneInfo(zone), WeeklyHours.parse(weekly), holiday_country, tuple(days_off))

    def closed_because(self, day: date) -> str | None:
        """The name of the holiday or day off that closes ``day`` (None: an ordinary day)."""
        for off in self.days_off:
            if off.covers(day):
                return off.name
        if self.holiday_country:
            return _public(self.holiday_country, day.year).get(day)
        return None

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if self.closed_because(day) is not None:
            return ()
        return self.weekly.spans[day.weekday()]

    def _open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open spans of ``day`` (a date in ``zone``) as UTC moments.

        Arithmetic happens in UTC: Python compares and subtracts two datetimes of the same
        zone by their wall clocks, which would make a day that changes to or from summer
        time an hour too long or too short. A span that starts in the hour a clock skips
        starts when the clock shows that time again (the offset before the change).
        """
        out = []
        for start, end in self.spans_on(day):
            begin = datetime.combine(day, start, self.zone)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), self.zone)
                if end == time.max
                else datetime.combine(day, end, self.zone)
            )
            a, b = begin.astimezone(UTC), finish.astimezone(UTC)
            if b > a:
                out.append((a, b))
        return out

    def _walk(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals (UTC) that end after ``at``, in order, at most ``MAX_DAYS`` days
        ahead; nothing at all for a calendar without weekly hours."""
        if self.weekly.empty:
            return
        moment = at.astimezone(UTC)
        first = at.astimezone(self.zone).date()
        for offset in range(MAX_DAYS):
            for begin, end in self._open_intervals(first + timedelta(days=offset)):
                if end > moment:
                    yield begin, end

    def is_open(self, at: datetime) -> bool:
        moment = at.astimezone(UTC)
        local = at.astimezone(self.zone).date()
        return any(a <= moment < b for a, b in self._open_intervals(local))

    def next_open(self, at: datetime) -> datetime | None:
        """``at`` if open then, else the next moment the calendar opens (in ``zone``)."""
        moment = at.astimezone(UTC)
        for begin, _ in self._walk(at):
            return max(begin, moment).astimezone(self.zone)
        return None

    def add(self, start: datetime, minutes: int) -> datetime | None:
        """The moment ``minutes`` of open time after ``start`` (None: never open), in
        ``zone``. Zero minutes from a closed moment is the next opening."""
        left = timedelta(minutes=max(0, minutes))
        moment = start.astimezone(UTC)
        for opens, end in self._walk(start):
            begin = max(opens, moment)
            if begin + left <= end:
                return (begin + left).astimezone(self.zone)
            left -= end - begin
        return None

    def add_days(self, start: datetime, days: int) -> datetime | None:
        """The same time of day ``days`` open days after ``start``'s day (2 business days
        after Friday 15:00 is Tuesday 15:00), moved to the next open moment if closed then."""
        if self.weekly.empty:
            return None
        local = start.astimezone(self.zone)
        day, counted = local.date(), 0
        for _ in range(MAX_DAYS):
            if counted >= max(0, days):
                return self.next_open(datetime.combine(day, local.time(), self.zone))
            day += timedelta(days=1)
            if self.spans_on(day):
                counted += 1
        return None

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Open minutes from ``start`` to ``end`` (negative when ``end`` comes first)."""
        if end < start:
            return -self.minutes_between(end, start)
        total = timedelta()
        a, b = start.astimezone(UTC), end.astimezone(UTC)
        for begin, finish in self._walk(start):
            if begin >= b:
                break
            total += min(finish, b) - max(begin, a)
        return int(total.total_seconds() // 60)

    def closures(self, start: date, *, days: int = 366, limit: int = 20) -> list[Closure]:
        """The public holidays and days off from ``start`` on (at most ``days`` days ahead,
        ``limit`` of them), each with whether the weekly hours would have opened that day."""
        found = []
        for offset in range(min(days, MAX_DAYS)):
            day = start + timedelta(days=offset)
            if (name := self.closed_because(day)) is not None:
                found.append(Closure(day, name, bool(self.weekly.spans[day.weekday()])))
                if len(found) >= limit:
                    break
        return found


@dataclass(frozen=True, slots=True)
class Closure:
    """A day a calendar is closed although it is no weekend: a holiday or a day off."""

    day: date
    name: str
    #: The weekly hours would have opened that day (it costs business time).
    weekday_open: bool


ALWAYS = BusinessCalendar.build("UTC", {d: [["00:00", "24:00"]] for d in DAYS})
