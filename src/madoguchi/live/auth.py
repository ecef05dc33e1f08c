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
from django.conf import settings
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
        scope["user"] = await get_user(scope)
        return await self.inner(scope, receive, send)
