"""The SLA fields of a conversation. Stub: helper "hours" writes it."""

from __future__ import annotations

from datetime import datetime


def set_due(due: dict[int, tuple[datetime | None, str]]) -> None:
    """Set ``due_at``/``due_kind`` of conversations: {conversation id: (due, kind)}."""
    raise NotImplementedError


def first_replied(conversation_id: int, at: datetime) -> None:
    """Our first reply went out: keep when (the first-response target is met)."""
    raise NotImplementedError


def breached(conversation_id: int, at: datetime) -> bool:
    """Record once that the current target was missed. Recorded now or not."""
    raise NotImplementedError
