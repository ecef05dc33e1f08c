"""The clock: what happens because time passed. Stub: helper "snooze" writes it."""

from __future__ import annotations

from datetime import datetime


def tick(now: datetime | None = None) -> dict[str, int]:
    """Wake snoozed conversations, raise follow-ups, record missed SLAs, hand on absent
    agents' conversations: each due item exactly once, however late. Counts by kind."""
    return {}
