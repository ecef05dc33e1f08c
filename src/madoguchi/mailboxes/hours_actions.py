"""Every write to a mailbox's business hours and days off (営業時間, 休業日).

``set_hours`` changes the time zone, the weekly hours and whose public holidays close the
mailbox; ``add_day_off`` / ``remove_day_off`` keep the team's own days off (年末年始,
お盆). Each checks what it is given (``ValidationError`` naming the field) and records one
``automation.settings`` event (``what`` "hours" or "days_off") and an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction

from madoguchi.accounts import audit
from madoguchi.accounts.models import AuditAction
from madoguchi.core import events
from madoguchi.core.business_time import WeeklyHours, countries
from madoguchi.core.event_types import EventType
from madoguchi.mailboxes.models import DayOff, Mailbox

#: The longest a day off may be (a typing slip must not close a mailbox for years).
MAX_DAY_OFF_DAYS = 366

#: The usual days off of a Japanese team, added with one button: name, first and last day
#: (month, day), every year.
PRESETS: dict[str, tuple[str, tuple[int, int], tuple[int, int]]] = {
    "new_year": ("年末年始", (12, 29), (1, 3)),
    "obon": ("お盆", (8, 13), (8, 16)),
}


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this system knows."""
    return frozenset(available_timezones())


def check_hours(
    time_zone: str, weekly: Mapping[str, Sequence[Sequence[str]]] | None, holiday_country: str
) -> dict[str, Any]:
    """The three settings as stored, or ``ValidationError`` naming each bad field."""
    errors: dict[str, str] = {}
    if time_zone not in time_zones():
        errors["time_zone"] = f"not a known time zone: {time_zone!r}"
    try:
        hours = WeeklyHours.parse(weekly).as_data()
    except ValueError as exc:
        errors["business_hours"] = str(exc)
    country = holiday_country.strip().upper()
    if country and country not in countries():
        errors["holiday_country"] = f"no public holidays known for {holiday_country!r}"
    if errors:
        raise ValidationError(errors)
    return {"time_zone": time_zone, "business_hours": hours, "holiday_country": country}


def set_hours(
    mailbox: Mailbox,
    *,
    time_zone: str,
    weekly: Mapping[str, Sequence[Sequence[str]]] | None,
    holiday_country: str,
    actor_id: int | None,
) -> list[str]:
    """Store the mailbox's time zone, weekly hours and holiday country; the fields changed."""
    values = check_hours(time_zone, weekly, holiday_country)
    changed = sorted(name for name, value in values.items() if getattr(mailbox, name) != value)
    if not changed:
        return []
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(**values)
        for name, value in values.items():
            setattr(mailbox, name, value)
        _record(mailbox, "hours", changed, actor_id=actor_id)
    return changed


def add_day_off(
    mailbox: Mailbox, *, name: str, start: date, end: date, yearly: bool, actor_id: int | None
) -> DayOff:
    """Close the mailbox from ``start`` to ``end`` (inclusive), every year when ``yearly``
    (12/29 to 1/3 is written with ``end`` in the next year)."""
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "a day off needs a name"
    elif len(name) > 100:
        errors["name"] = "at most 100 characters"
    if end < start:
        errors["end"] = "the last day comes before the first"
    elif (end - start).days >= (365 if yearly else MAX_DAY_OFF_DAYS):
        errors["end"] = "a day off lasts less than a year"
    if not errors and _listed(mailbox, name, start, end, yearly):
        errors["name"] = "this day off is listed already"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        day = DayOff.objects.create(mailbox=mailbox, name=name, start=start, end=end, yearly=yearly)
        _record(mailbox, "days_off", {"added": name}, actor_id=actor_id)
    return day


def _listed(mailbox: Mailbox, name: str, start: date, end: date, yearly: bool) -> bool:
    days = DayOff.objects.filter(mailbox=mailbox, name=name, yearly=yearly)
    if not yearly:
        return days.filter(start=start, end=end).exists()
    key = (start.month, start.day, end.month, end.day)
    return any((d.start.month, d.start.day, d.end.month, d.end.day) == key for d in days)


def add_preset(mailbox: Mailbox, key: str, *, year: int, actor_id: int | None) -> DayOff:
    """One of ``PRESETS`` as a yearly day off (``KeyError`` for an unknown one)."""
    name, (m1, d1), (m2, d2) = PRESETS[key]
    start = date(year, m1, d1)
    end = date(year + 1 if (m2, d2) < (m1, d1) else year, m2, d2)
    return add_day_off(mailbox, name=name, start=start, end=end, yearly=True, actor_id=actor_id)


def remove_day_off(mailbox: Mailbox, day_off_id: int, *, actor_id: int | None) -> bool:
    """Open the mailbox again on a day off; False if it is not one of the mailbox's."""
    with transaction.atomic():
        day = DayOff.objects.filter(mailbox=mailbox, pk=day_off_id).first()
        if day is None:
            return False
        day.delete()
        _record(mailbox, "days_off", {"removed": day.name}, actor_id=actor_id)
    return True


def _record(mailbox: Mailbox, what: str, change: object, *, actor_id: int | None) -> None:
    events.record(
        EventType.AUTOMATION_SETTINGS,
        mailbox_id=mailbox.pk,
        actor_id=actor_id,
        what=what,
        change=change,
    )
    fields = change if isinstance(change, list) else [what]
    audit.record(AuditAction.MAILBOX_SETTINGS, actor=actor_id, target=mailbox.address,
                 fields=fields)  # fmt: skip
