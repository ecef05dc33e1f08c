"""Write Event rows. Only ``*/actions.py`` modules call ``record``.

The row is written inside the caller's transaction, so an event exists exactly when the
change it describes was committed (an outbox, as in Zulip's ``send_event_on_commit``).
"""

from __future__ import annotations

from typing import Any

from madoguchi.core.models import Event


def build(
    type: str,
    *,
    mailbox_id: int | None = None,
    conversation_id: int | None = None,
    actor_id: int | None = None,
    **data: Any,
) -> Event:
    """An unsaved Event, for actions that write many at once with ``record_many``."""
    return Event(
        type=type,
        mailbox_id=mailbox_id,
        conversation_id=conversation_id,
        actor_id=actor_id,
        data=data,
    )


def record_many(items: list[Event]) -> None:
    Event.objects.bulk_create(items)


def record(
    type: str,
    *,
    mailbox_id: int | None = None,
    conversation_id: int | None = None,
    actor_id: int | None = None,
    **data: Any,
) -> Event:
    event = build(
        type, mailbox_id=mailbox_id, conversation_id=conversation_id, actor_id=actor_id, **data
    )
    event.save()
    return event
