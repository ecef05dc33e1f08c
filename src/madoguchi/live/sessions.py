"""Which signed-in sockets lost their session (signed out, expired, password changed).

A socket signs in once, when it connects (``live.auth``). Signing out anywhere records a
``session.ended`` event that closes that session's sockets at once (``live.actions``);
every ``CHECK_SECONDS`` the hub also asks this module, in one query per 500 sessions,
whether each open socket's session still exists, still belongs to an active agent and
still matches the agent's password (Django's session hash, as at sign-in), and closes the
sockets whose session does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from django.utils.crypto import constant_time_compare

#: How often the hub checks the sessions of its open sockets.
CHECK_SECONDS = 10.0
_CHUNK = 500


def fingerprint(session_key: str) -> str:
    """What the event log keeps of a session key (never the key itself)."""
    return hashlib.sha256(f"madoguchi-live:{session_key}".encode()).hexdigest()[:32]


def _session_data(keys: list[str]) -> dict[str, dict[str, Any]]:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict[str, Any]] = {}
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        for start in range(0, len(keys), _CHUNK):
            rows = Session.objects.filter(
                session_key__in=keys[start : start + _CHUNK], expire_date__gt=timezone.now()
            ).values_list("session_key", "session_data")
            for key, data in rows:
                found[key] = store().decode(data)
        return found
    for key in keys:
        data = store(session_key=key).load()
        if data:
            found[key] = data
    return found


def _hash_ok(user: Any, session_hash: str) -> bool:
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, user._get_session_auth_hash(secret=fallback))
        for fallback in settings.SECRET_KEY_FALLBACKS
    )


def ended(sessions: Iterable[tuple[str, int]]) -> set[str]:
    """Of these (session key, user id) pairs, the keys that no longer sign that user in."""
    from django.contrib.auth.models import User

    pairs = dict(sessions)
    data = _session_data(list(pairs))
    users = User.objects.in_bulk({pairs[k] for k in data})
    gone = set()
    for key, user_id in pairs.items():
        session = data.get(key)
        user = users.get(user_id)
        if (
            session is None
            or user is None
            or not user.is_active
            or str(session.get(SESSION_KEY)) != str(user_id)
            or not session.get(BACKEND_SESSION_KEY)
            or not _hash_ok(user, str(session.get(HASH_SESSION_KEY, "")))
        ):
            gone.add(key)
    return gone
