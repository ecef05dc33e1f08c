"""The one write of the live app: a session ended, so its sockets close."""

from __future__ import annotations

from typing import Any

from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.live.sessions import fingerprint


def end_session(user_id: int, session_key: str) -> None:
    """Record that ``session_key`` of this user signed out (hub: close its sockets)."""
    events.record(EventType.SESSION_ENDED, actor_id=user_id, session=fingerprint(session_key))


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_out`` receiver (connected in ``apps.LiveConfig.ready``)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and key:
        end_session(int(user.pk), key)
