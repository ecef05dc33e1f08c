"""Filters of the reports page: business minutes as words."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def minutes(value: float | None) -> str:
    """``130`` → "2時間10分" / "2 h 10 min"; None → "—"."""
    if value is None:
        return "—"
    total = round(value)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)s d") % {"n": days})
    if hours:
        parts.append(_("%(n)s h") % {"n": hours})
    if mins or not parts:
        parts.append(_("%(n)s min") % {"n": mins})
    return " ".join(parts)


@register.filter
def average(row: dict[str, int], name: str) -> float | None:
    """The mean of ``<name>_minutes`` over ``<name>s`` (first_response, resolution)."""
    count = row.get(f"{name}s", 0)
    return row.get(f"{name}_minutes", 0) / count if count else None
