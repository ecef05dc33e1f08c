"""``verify_action``: exactly what one action recorded, checked against the event registry.

As Zulip's ``verify_action``: a test runs one action inside the block and then states every
event it wrote (types in order, key payload) and every notification it made. Each event is
checked against its declaration in ``core.event_types`` (payload, conversation, addressee),
and each notification must come with its ``notification.created`` event addressed to its
agent alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db.models import Max

from madoguchi.core.event_types import EventType, spec
from madoguchi.core.models import Event
from madoguchi.notifications.models import Notification


@dataclass
class Recorded:
    """What an action left: its events and its notifications, oldest first."""

    events: list[Event] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def one(self, type: EventType) -> Event:
        """The only event of ``type`` (fails if there are none or several)."""
        found = [e for e in self.events if e.type == type]
        assert len(found) == 1, f"{len(found)} {type.value} events in {self.types}"
        return found[0]

    @property
    def told(self) -> list[tuple[int, str]]:
        """(agent, kind) of each notification made."""
        return [(n.user_id, n.kind) for n in self.notifications]


def _newest(model: type[Event] | type[Notification]) -> int:
    return int(model.objects.aggregate(newest=Max("pk"))["newest"] or 0)


@contextmanager
def verify_action() -> Iterator[Recorded]:
    """Collect (and check) the events and notifications written inside the block."""
    last_event, last_notification = _newest(Event), _newest(Notification)
    seen = Recorded()
    yield seen
    seen.events = list(Event.objects.filter(pk__gt=last_event).order_by("pk"))
    seen.notifications = list(Notification.objects.filter(pk__gt=last_notification).order_by("pk"))
    for event in seen.events:
        declared = spec(event.type)
        declared.check(EventType(event.type), event.data)
        if declared.in_conversation:
            assert event.conversation_id is not None, event.type
        if declared.personal:
            assert isinstance(event.data["to"], int), event.type
    created = {
        e.data["notification"]: e for e in seen.events if e.type == EventType.NOTIFICATION_CREATED
    }
    assert len(created) == len(seen.notifications), (seen.types, seen.told)
    for n in seen.notifications:
        event = created[n.pk]
        assert (event.data["to"], event.data["kind"]) == (n.user_id, n.kind)
        assert event.conversation_id == n.conversation_id and event.actor_id == n.actor_id
