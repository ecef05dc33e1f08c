"""Sign a WebSocket in with the page's session cookie, once, when it connects.

Channels' ``AuthMiddlewareStack`` also wraps every message the server sends, to save a
changed session; a live socket never changes its session, and that wrapper cost about a
sixth of the server's time per message at 2,000 tabs (bench/realtime.py). This does the
same sign-in (``channels.auth.get_user``: session, user, session hash) without the wrapper.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

Scope = dict[str, Any]


class SessionAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
        store = import_module(settings.SESSION_ENGINE).SessionStore
        scope = {**scope, "session": store(session_key=cookies.get(settings.SESSION_COOKIE_NAME))}
        user = await get_user(scope)
        passed = database_sync_to_async(_passed_second_step)
        if user.is_authenticated and not await passed(scope["session"], user):
            user = AnonymousUser()
        scope["user"] = user
        return await self.inner(scope, receive, send)


def _passed_second_step(session: Any, user: Any) -> bool:
    """The pages' rule (accounts.twofactor_middleware) for a socket: a session that did not
    pass a second step its agent has, or that the team requires, gets no live events."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from madoguchi.accounts import twofactor

    if session.get(DEVICE_ID_SESSION_KEY):
        return True
    return not twofactor.has_two_factor(user) and not twofactor.required()
