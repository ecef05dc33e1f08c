"""Believe ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only from a trusted proxy (ASGI).

Behind a reverse proxy that terminates TLS, the connection Madoguchi sees comes from the
proxy, over plain HTTP. When the direct peer is one of ``MADOGUCHI_TRUSTED_PROXIES``,
this middleware puts the client's address (the right-most address of
``X-Forwarded-For`` that is not itself a trusted proxy) into ``scope["client"]``, which
Django exposes as ``REMOTE_ADDR``, and the scheme of ``X-Forwarded-Proto`` into
``scope["scheme"]``, which ``request.is_secure()`` reads (so ``SECURE_PROXY_SSL_HEADER``
is not needed). From any other peer the headers are ignored. In every case they are then
removed, so nothing further in (Django, a sign-in throttle reading ``X-Forwarded-For``)
can be fooled by a value a client typed. A request that came with them carries
``X-Madoguchi-Forwarded: 1`` instead (``HTTP_X_MADOGUCHI_FORWARDED``), so that pages
meant for this machine only (``/setup/``) can tell a same-host proxy from a local browser.

It runs in the application, not in uvicorn (``proxy_headers`` is switched off in
``cli/run.py``), so it behaves the same for HTTP and WebSocket, under any ASGI server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from madoguchi.core.limits import App, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-real-ip", b"forwarded")
#: Set on a request that came with forwarding headers (which are then removed).
MARK = (b"x-madoguchi-forwarded", b"1")


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """``10.0.0.1``, ``10.0.0.0/8``, ``::1``: raises ValueError on anything else."""
    return [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxyMiddleware:
    def __init__(self, app: App, trusted: Iterable[str] | None = None) -> None:
        self.app = app
        self._trusted = parse_networks(trusted) if trusted is not None else None

    @property
    def trusted(self) -> list[Network]:
        if self._trusted is None:  # settings are read at the first request
            from django.conf import settings

            self._trusted = parse_networks(settings.MADOGUCHI.trusted_proxies)
        return self._trusted

    def is_trusted(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in net for net in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        forwarded: dict[bytes, bytes] = {}
        for key, value in headers:
            if key.lower() in _FORWARDED:  # a header sent twice reads as one list
                seen = forwarded.get(key.lower())
                forwarded[key.lower()] = value if seen is None else seen + b"," + value
        if forwarded:
            scope = dict(scope)
            kept = [(k, v) for k, v in headers if k.lower() not in _FORWARDED and k != MARK[0]]
            scope["headers"] = [*kept, MARK]
            client = scope.get("client")
            if self.trusted and client and self.is_trusted(str(client[0])):
                scope.update(self._from_proxy(scope, forwarded))
        await self.app(scope, receive, send)

    def _from_proxy(self, scope: Scope, forwarded: dict[bytes, bytes]) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        chain = forwarded.get(b"x-forwarded-for", b"").decode("latin-1").split(",")
        for entry in reversed(chain):  # the right-most entries were added by our proxies
            address = _address(entry)
            if address is None:
                break
            changed["client"] = (str(address), 0)
            if not any(address in net for net in self.trusted):
                break
        proto = forwarded.get(b"x-forwarded-proto", b"").decode("latin-1")
        proto = proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
            if scope["type"] == "websocket":
                changed["scheme"] = "wss" if secure else "ws"
            else:
                changed["scheme"] = proto
        return changed
