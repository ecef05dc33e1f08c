"""Snooze and follow-up: conversation state that time changes. Stub: helper "snooze"."""

from __future__ import annotations

from datetime import datetime

from madoguchi.conversations.models import Conversation


def snooze(conv: Conversation, *, until: datetime, back_to: str, actor_id: int) -> None:
    """Put ``conv`` aside until ``until``; it wakes to 新着 ("new") or its owner ("owner")."""
    raise NotImplementedError


def wake(conv: Conversation, *, reason: str, actor_id: int | None = None) -> bool:
    """Wake a snoozed conversation now ("time", "customer", "manual"). Woken or not."""
    raise NotImplementedError


def wake_due(now: datetime) -> int:
    """Wake every conversation whose snooze ended by ``now``, each once. How many."""
    return 0


def set_follow_up(
    conv: Conversation, *, at: datetime, user_id: int, message_id: int | None = None
) -> None:
    """Remind ``user_id`` at ``at`` unless the customer answers first."""
    raise NotImplementedError


def follow_ups_due(now: datetime) -> int:
    """Raise every follow-up due by ``now`` with no answer since, each once. How many."""
    return 0
