"""Write Event rows. Only ``*/actions.py`` modules call ``record``.

The row is written inside the caller's transaction, so an event exists exactly when the
change it describes was committed (an outbox, as in Zulip's ``send_event_on_commit``).

Every write also rings a doorbell for whoever follows the log (``live.hub``): in this
process through ``on_commit`` callbacks registered with ``subscribe``, and in other
processes, on PostgreSQL, with ``NOTIFY`` inside the same transaction (delivered only if it
commits). Other processes on SQLite notice new rows by polling.

Each type is declared once in ``core.event_types`` with its payload; ``build`` refuses an
undeclared type or payload. Apps higher up react to events without the lower app importing
them: ``observe`` registers a function that runs in the same transaction, right after the rows
are written (``notifications`` makes its notifications this way, so ``conversations`` and
``mail_out`` never import it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction

from madoguchi.core.event_types import EventType, spec
from madoguchi.core.models import Event

Observer = Callable[[list[Event]], None]

#: The PostgreSQL channel that announces new rows of the event log (and of presence pulses).
CHANNEL = "madoguchi_live"
_subscribers: list[Callable[[], None]] = []
_observers: list[tuple[frozenset[str], Observer]] = []


def observe(types: Iterable[EventType], observer: Observer) -> None:
    """Call ``observer`` with the new events of ``types``, in the transaction that wrote them
    (an app's ``ready()`` registers; an exception rolls the whole change back)."""
    entry = (frozenset(t.value for t in types), observer)
    if entry not in _observers:
        _observers.append(entry)


def _dispatch(items: list[Event]) -> None:
    for types, observer in list(_observers):
        if matching := [e for e in items if e.type in types]:
            observer(matching)


def subscribe(callback: Callable[[], None]) -> None:
    """Call ``callback`` (from any thread) after each commit that wrote events."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def _ring() -> None:
    for callback in list(_subscribers):
        callback()


def announce() -> None:
    """Ring the doorbell for rows written in the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")
    if _subscribers:
        transaction.on_commit(_ring)


def build(
    type: EventType | str,
    *,
    mailbox_id: int | None = None,
    conversation_id: int | None = None,
    actor_id: int | None = None,
    **data: Any,
) -> Event:
    """An unsaved Event, for actions that write many at once with ``record_many``."""
    kind = EventType(type)
    spec(kind).check(kind, data)
    return Event(
        type=kind.value,
        mailbox_id=mailbox_id,
        conversation_id=conversation_id,
        actor_id=actor_id,
        data=data,
    )


def record_many(items: list[Event]) -> None:
    if items:
        Event.objects.bulk_create(items)
        announce()
        _dispatch(items)


def record(
    type: EventType | str,
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
    announce()
    _dispatch([event])
    return event
