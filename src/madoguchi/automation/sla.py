"""SLA targets. Stub: helper "hours" writes it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival


def register() -> None:
    """Observe our replies (the first response meets the first-response target)."""


def set_targets(arrivals: list[Arrival]) -> None:
    """Set the due time of the batch's conversations."""


def check_breaches(now: datetime) -> int:
    """Record each target missed by ``now`` once (``sla.breached``). How many."""
    return 0
