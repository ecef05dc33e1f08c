"""Sorting rules (振り分けルール). Stub: helper "rules" writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival


def apply_rules(arrivals: list[Arrival]) -> None:
    """Run each mailbox's enabled rules, in order, on the batch's arrivals."""
