"""A mailbox's business calendar (``core.business_time``) from its settings and days off."""

from __future__ import annotations

import logging

from madoguchi.core.business_time import BusinessCalendar, DayOff
from madoguchi.mailboxes.models import Mailbox, default_business_hours

log = logging.getLogger("madoguchi.mailboxes")

#: The zone and hours a mailbox whose stored settings cannot be read counts with.
FALLBACK_ZONE = "Asia/Tokyo"


def calendar_for(mailbox: Mailbox) -> BusinessCalendar:
    """Its weekly hours, public holidays and days off (one query for the days off).

    The settings are checked when saved (``hours_actions``); should the stored ones still
    be unreadable (a zone the system no longer knows), the mailbox counts with Monday to
    Friday 9:00–18:00 in Tokyo and a warning is logged, rather than failing the intake
    that asked.
    """
    days_off = [DayOff(d.name, d.start, d.end, d.yearly) for d in mailbox.days_off.all()]
    try:
        return BusinessCalendar.build(
            mailbox.time_zone,
            mailbox.business_hours,
            holiday_country=mailbox.holiday_country,
            days_off=days_off,
        )
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        log.warning("mailbox %s: business hours unreadable (%s); using defaults", mailbox.pk, exc)
        return BusinessCalendar.build(
            FALLBACK_ZONE,
            default_business_hours(),
            holiday_country=mailbox.holiday_country,
            days_off=days_off,
        )
