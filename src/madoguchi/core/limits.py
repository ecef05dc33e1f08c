"""Bound every HTTP request body before anything reads it (an ASGI middleware).

Django's ASGI handler reads the whole body into a temporary file before the first
middleware runs, so a Django setting cannot stop ``curl -T /dev/zero``: the disk fills
first. This sits between the server and Django and, per route,

- answers 413 at once, reading nothing, when ``Content-Length`` is over the limit;
- counts the bytes of a body without ``Content-Length`` (chunked) as they arrive and,
  at the limit, stops reading, tells Django the client went away and answers 413;

both with ``Connection: close``. Routes that take attachments (a reply, a forward, a new
conversation, a draft, an edited reply under approval) may carry a mail as large as the
largest one Madoguchi accepts (``MADOGUCHI_MAX_MESSAGE_BYTES``, plus room for the form
fields); sign-in pages take a few kilobytes; everything else 1 MiB.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Any, Any, Any], Awaitable[None]]

KiB, MiB = 1024, 1024 * 1024
#: Any page or form without files.
DEFAULT_LIMIT = 1 * MiB
#: The sign-in and first-run pages, which anyone may post to.
SIGN_IN_LIMIT = 64 * KiB
#: Room for the text, the HTML and the multipart framing beside the largest mail.
UPLOAD_SLACK = 1 * MiB

_UPLOADS = re.compile(
    r"/c/\d+/reply|/c/\d+/m/\d+/forward|/m/\d+/compose|/c/\d+/draft|/approvals/\d+"
    r"|/admin/templates/\d+/files"
)
_SIGN_IN = re.compile(r"/login/.*|/invite/.*|/setup/.*|/password/.*")


def limit_for(path: str, max_message_bytes: int) -> int:
    """The most bytes a request body to ``path`` may have."""
    if _UPLOADS.fullmatch(path):
        return max_message_bytes + UPLOAD_SLACK
    if _SIGN_IN.fullmatch(path):
        return SIGN_IN_LIMIT
    return DEFAULT_LIMIT


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> str:
    return f"413 Request body too large: at most {limit} bytes here.\n"


class BodyLimitMiddleware:
    """Wraps the HTTP application; other scope types pass through untouched."""

    def __init__(self, app: App, *, max_message_bytes: int | None = None) -> None:
        self.app = app
        self._max_message_bytes = max_message_bytes

    @property
    def max_message_bytes(self) -> int:
        if self._max_message_bytes is None:  # settings are read at the first request
            from django.conf import settings

            self._max_message_bytes = int(settings.MADOGUCHI.max_message_bytes)
        return self._max_message_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""), self.max_message_bytes)
        declared = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
        if declared:
            text = declared[0].decode("latin-1").strip()
            if len(declared) > 1 or not text.isdigit():
                await _answer(send, 400, "400 Bad Content-Length.\n")
                return
            if int(text) > limit:
                await _answer(send, 413, _too_large(limit))
                return
        received = 0
        over = started = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True  # stop reading: the application sees a client that left
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, watched)
        if over and not started:
            await _answer(send, 413, _too_large(limit))
