"""Template helpers of the conversation header's triage controls (``web.triage``).

The header is rendered by the conversation page and by its live fragment
(``fragments.items``) alike, so what it needs beyond the conversation comes from here,
not from either view's context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from madoguchi.conversations import timers
from madoguchi.conversations.models import Conversation, Status
from madoguchi.web.rows import Due, due_badge

register = template.Library()

#: The status buttons of the header, and the statuses kept in its "more" menu.
MAIN_STATUSES = (Status.NEW, Status.OPEN, Status.HOLD, Status.DONE)
OTHER_STATUSES = (Status.SPAM, Status.TRASH)
#: "Remind me if no answer in N business days": the choices offered.
FOLLOW_UP_DAYS = (1, 2, 3, 5)


@dataclass(frozen=True)
class Preset:
    value: str
    label: str
    at: datetime


def _preset_labels() -> dict[str, str]:
    return {
        "later": _("In 3 hours"),
        "tomorrow": _("Tomorrow"),
        "next_business_day": _("Next business day"),
        "next_week": _("Next week"),
    }


@register.simple_tag
def snooze_presets(conv: Conversation) -> list[Preset]:
    """The snooze menu's presets with when each would end now (one query: the days off)."""
    now = timezone.now()
    labels = _preset_labels()
    return [
        Preset(p, labels[p], timers.preset_time(p, now=now, mailbox=conv.mailbox))
        for p in timers.PRESETS
    ]


@register.simple_tag
def follow_up_choices() -> list[tuple[int, str]]:
    labels = {
        1: _("In 1 business day"),
        2: _("In 2 business days"),
        3: _("In 3 business days"),
        5: _("In 5 business days"),
    }
    return [(n, labels[n]) for n in FOLLOW_UP_DAYS]


@register.simple_tag
def main_statuses() -> tuple[Status, ...]:
    return MAIN_STATUSES


@register.simple_tag
def other_statuses() -> tuple[Status, ...]:
    return OTHER_STATUSES


@register.filter
def snoozed(conv: Conversation) -> bool:
    """On hold until a time (``timers.is_snoozed``)."""
    return timers.is_snoozed(conv)


@register.filter
def due(conv: Conversation) -> Due | None:
    """The SLA badge of the header (as on the list's rows)."""
    return due_badge(conv, timezone.now())


@register.filter
def moment(value: object) -> datetime | None:
    """A time an event's data holds (ISO 8601 text) as a datetime (None if it is none)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        found = parse_datetime(value)
    except ValueError:
        return None
    if found is not None and timezone.is_naive(found):
        return None
    return found
