"""core.proxy: forwarded headers believed from trusted proxies only, then removed."""

from __future__ import annotations

import asyncio
from typing import Any

from madoguchi.core.proxy import TrustedProxyMiddleware


def _seen(trusted: list[str], peer: str, headers: dict[str, str], kind: str = "http") -> Any:
    """The scope the application behind the middleware gets."""
    got: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.update(scope)

    scope = {"type": kind, "scheme": "ws" if kind == "websocket" else "http",
             "client": (peer, 50000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
    asyncio.run(TrustedProxyMiddleware(app, trusted)(scope, None, None))  # type: ignore[arg-type]
    return got


def _header_names(scope: Any) -> set[bytes]:
    return {k for k, _ in scope["headers"]}


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "Host": "x"}


def test_a_trusted_proxy_gives_the_client_address_and_scheme():
    scope = _seen(["127.0.0.1"], "127.0.0.1", FORWARDED)
    assert scope["client"] == ("203.0.113.7", 0) and scope["scheme"] == "https"
    assert _header_names(scope) == {b"host", b"x-madoguchi-forwarded"}  # only the mark


def test_anyone_else_cannot_choose_their_address_or_scheme():
    scope = _seen(["127.0.0.1"], "198.51.100.9", FORWARDED)
    assert scope["client"] == ("198.51.100.9", 50000) and scope["scheme"] == "http"
    assert _header_names(scope) == {b"host", b"x-madoguchi-forwarded"}


def test_without_trusted_proxies_the_headers_are_dropped():
    scope = _seen([], "127.0.0.1", FORWARDED)
    assert scope["client"] == ("127.0.0.1", 50000) and scope["scheme"] == "http"
    assert _header_names(scope) == {b"host", b"x-madoguchi-forwarded"}


def test_the_right_most_untrusted_address_is_the_client():
    """A client may put anything in front; proxies of a trusted network are skipped."""
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.1.2.3"}
    scope = _seen(["10.0.0.0/8"], "10.9.9.9", headers)
    assert scope["client"] == ("203.0.113.7", 0)


def test_garbage_in_the_chain_stops_the_walk():
    scope = _seen(["10.0.0.0/8"], "10.9.9.9", {"X-Forwarded-For": "<script>, 203.0.113.7"})
    assert scope["client"] == ("203.0.113.7", 0)
    scope = _seen(["10.0.0.0/8"], "10.9.9.9", {"X-Forwarded-For": "not-an-ip"})
    assert scope["client"] == ("10.9.9.9", 50000)


def test_ipv6_and_websocket_schemes():
    headers = {"X-Forwarded-For": "[2001:db8::1]:4711", "X-Forwarded-Proto": "https"}
    scope = _seen(["::1"], "::1", headers, kind="websocket")
    assert scope["client"] == ("2001:db8::1", 0) and scope["scheme"] == "wss"


def test_a_same_host_proxy_leaves_a_mark_that_local_only_pages_refuse():
    """nginx on this machine, not listed as trusted, sending Host: 127.0.0.1: the
    forwarded headers are gone, but /setup/ must still see that this came through a proxy."""
    from django.test import RequestFactory

    from madoguchi.web.setup import is_local

    scope = _seen([], "127.0.0.1", {"X-Forwarded-For": "203.0.113.7", "Host": "127.0.0.1"})
    meta = {"HTTP_" + k.decode().upper().replace("-", "_"): v.decode() for k, v in scope["headers"]}
    request = RequestFactory().get("/setup/", REMOTE_ADDR="127.0.0.1", **meta)
    assert not is_local(request)
    assert is_local(RequestFactory().get("/setup/", REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1"))
