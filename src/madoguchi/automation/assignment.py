"""Automatic assignment. Stub: helper "assignment" writes it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival
    from madoguchi.conversations.models import Conversation


def assign_new(arrivals: list[Arrival]) -> None:
    """New conversations still without an assignee, by their mailbox's policy."""


def assign_by(
    conv: Conversation, *, group_id: int | None, strategy: str, rule: str | None = None
) -> int | None:
    """Assign ``conv`` to a member of ``group_id`` (None: of its mailbox) chosen by
    ``strategy``; the user id given it, or None (it waits in Unassigned)."""
    return None


def reoffer_due(now: datetime) -> int:
    """Hand on the conversations of absent assignees whose customers wrote again longer
    ago than their mailbox's ``reoffer_after_minutes`` (引き継ぎ). How many."""
    return 0
