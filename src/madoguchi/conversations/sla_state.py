"""The SLA fields of a conversation: the one writer of ``due_at``, ``due_kind``,
``breached_at`` and ``first_replied_at``.

``automation.sla`` decides what is due when (targets, business time) and calls here; the
lists read the fields ("due first", time left, overdue in red). Each write is a plain
conditional ``UPDATE``: no conversation row is loaded, and no other field is touched, so
an action saving other fields of the same conversation loses nothing. No events: the
breach itself is one (``sla.breached``), recorded by ``automation.sla``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Case, F, Value, When

from madoguchi.conversations.models import Conversation

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


def set_due(due: dict[int, tuple[datetime | None, str]]) -> None:
    """Set ``due_at``/``due_kind`` of conversations: {conversation id: (due, kind)}.

    A conversation whose kind of target changes may miss the new one too: its
    ``breached_at`` is cleared; the same kind with a new time keeps it (a target is
    missed once). Conversations with the same due are written in one statement.
    """
    alike: dict[tuple[datetime | None, str], list[int]] = defaultdict(list)
    for pk, (at, kind) in due.items():
        alike[(at, kind if at is not None else "")].append(pk)
    for (at, kind), ids in alike.items():
        Conversation.objects.filter(pk__in=ids).update(
            due_at=at,
            due_kind=kind,
            breached_at=Case(When(due_kind=kind, then=F("breached_at")), default=Value(None)),
        )


def clear(conversation_ids: Iterable[int]) -> None:
    """Nothing is due any more (done, spam, trash)."""
    Conversation.objects.filter(pk__in=list(conversation_ids)).exclude(
        due_at=None, due_kind="", breached_at=None
    ).update(due_at=None, due_kind="", breached_at=None)


def restart(conversation_ids: Iterable[int]) -> None:
    """The customer wrote again after it was done: the targets start over, our first reply
    of this round is still to come."""
    Conversation.objects.filter(pk__in=list(conversation_ids)).update(
        first_replied_at=None, breached_at=None
    )


def first_replied(conversation_id: int, at: datetime) -> None:
    """Our first reply went out: keep when (the first-response target is met)."""
    Conversation.objects.filter(pk=conversation_id, first_replied_at=None).update(
        first_replied_at=at
    )


def taken_back(conversation_id: int, at: datetime) -> bool:
    """The reply that was our first one (kept as ``at``) was taken back: none went out.
    Whether it was the first one."""
    changed = Conversation.objects.filter(pk=conversation_id, first_replied_at=at).update(
        first_replied_at=None
    )
    return bool(changed)


def breached(conversation_id: int, at: datetime) -> bool:
    """Record once that the current target was missed. Recorded now or not.

    Only a conversation whose target was due by ``at`` and not yet recorded as missed:
    of two clocks checking at once, one records it.
    """
    changed = Conversation.objects.filter(
        pk=conversation_id, breached_at=None, due_at__lte=at
    ).update(breached_at=at)
    return bool(changed)
