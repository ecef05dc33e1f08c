"""A WebSocket client for /live, signed in as an agent with a real session cookie."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from websockets.sync.client import ClientConnection, connect

from tests.factories import client_for


def session_cookie(user: User) -> str:
    client = client_for(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class Live:
    def __init__(self, base: str, user: User | None, *, after: int | None = None) -> None:
        url = base.replace("http://", "ws://") + "/live"
        if after is not None:
            url += f"?after={after}"
        headers = {"Origin": base}
        if user is not None:
            headers["Cookie"] = session_cookie(user)
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(url, additional_headers=headers, open_timeout=10)
        )
        self.got: list[dict[str, Any]] = []

    def send(self, **message: Any) -> None:
        self.ws.send(json.dumps(message))

    def wait_for(self, match: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first message (kept or arriving) for which ``match(message)`` is true."""
        for message in self.got:
            if match(message):
                return message
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                break
            self.got.append(message)
            if match(message):
                return message
        raise AssertionError(f"no matching message within {timeout}s; got {self.got}")

    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.got if m["type"] == "event"]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Live:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Browserless:
    """An agent using the pages over HTTP (a requests session with their cookie)."""

    def __init__(self, base: str, user: User) -> None:
        import requests

        self.base = base
        self.http = requests.Session()
        name, _, value = session_cookie(user).partition("=")
        self.http.cookies.set(name, value)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        self.http.get(self.base + path.rsplit("/", 1)[0] + "/")  # sets the CSRF cookie
        token = self.http.cookies.get("csrftoken", "")
        return self.http.post(self.base + path, data=data, headers={"X-CSRFToken": token},
                              allow_redirects=False)  # fmt: skip
