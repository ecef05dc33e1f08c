"""A mailbox's business calendar (``core.business_time``) from its settings and days off."""

from __future__ import annotations

from madoguchi.core.business_time import BusinessCalendar, DayOff
from madoguchi.mailboxes.models import Mailbox


def calendar_for(mailbox: Mailbox) -> BusinessCalendar:
    """Its weekly hours, public holidays and days off (one query for the days off)."""
    days_off = [DayOff(d.name, d.start, d.end, d.yearly) for d in mailbox.days_off.all()]
    return BusinessCalendar.build(
        mailbox.time_zone,
        mailbox.business_hours,
        holiday_country=mailbox.holiday_country,
        days_off=days_off,
    )
