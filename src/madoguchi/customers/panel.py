"""The customer panel beside a conversation: the mailbox's links filled for its customer,
and the mailbox's HTTP source of customer information.

The source is asked by the browser after the page has loaded (``/c/<id>/customer-info``),
never while the conversation page renders: a slow or failing source shows that it failed
and costs the page nothing. Each request has the source's time limit for the whole answer
(not per read), reads at most ``MAX_ANSWER`` bytes, follows no redirect, and sends the
mailbox's header (its value decrypted only here), and never goes to a link-local address
(cloud metadata). An answer is a JSON object whose fields
are shown (nested objects as ``a.b``, lists joined); it is cached for the source's cache
time, a failure for ``FAILURE_CACHE`` seconds (so a down source is not asked by every
open tab).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from madoguchi.conversations.models import ContactAddress, Conversation
from madoguchi.customers.links import fill, order_numbers
from madoguchi.customers.models import CustomerPanel

MAX_ANSWER = 256 * 1024
MAX_FIELDS = 40
MAX_VALUE = 500
FAILURE_CACHE = 30
#: Bounds an administrator may set for the time limit (ms).
TIMEOUT_RANGE = (100, 10_000)


def panel_of(mailbox_id: int) -> CustomerPanel | None:
    return CustomerPanel.objects.filter(mailbox_id=mailbox_id).first()


def values_for(conv: Conversation, panel: CustomerPanel) -> dict[str, str]:
    """What the placeholders stand for in this conversation."""
    contact = conv.contact
    email = ""
    if contact is not None:
        email = (
            ContactAddress.objects.filter(contact=contact)
            .order_by("pk")
            .values_list("email", flat=True)
            .first()
            or ""
        )
    orders = order_numbers(panel.order_pattern, conv.subject)
    values = {
        "email": email,
        "name": contact.name if contact else "",
        "company": contact.company if contact else "",
        "domain": contact.organization if contact else "",
        "order": orders[0] if orders else "",
    }
    for key, value in (contact.fields if contact else {}).items():
        values[f"field:{key}"] = str(value)
    return values


def links_of(conv: Conversation, panel: CustomerPanel) -> list[tuple[str, str]]:
    """(label, URL) of the mailbox's links that can be made for this conversation."""
    if not panel.links:
        return []
    values = values_for(conv, panel)
    made = []
    for link in panel.links:
        url = fill(str(link.get("url", "")), values)
        if url:
            made.append((str(link.get("label", ""))[:80], url))
    return made


@dataclass
class Info:
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: Why nothing is shown: "none" (no source), "missing" (a value the URL needs),
    #: "timeout", "http" (with the status), "network", "json", "large", "blocked".
    error: str = ""
    detail: str = ""


def info_for(conv: Conversation) -> Info:
    panel = panel_of(conv.mailbox_id)
    if panel is None or not panel.source_url:
        return Info(error="none")
    url = fill(panel.source_url, values_for(conv, panel))
    if url is None:
        return Info(error="missing")
    key = (
        "madoguchi:info:"
        + hashlib.sha256(f"{panel.pk}|{panel.updated_at.isoformat()}|{url}".encode()).hexdigest()
    )
    cached = cache.get(key)
    if isinstance(cached, dict):
        pairs = [(str(a), str(b)) for a, b in cached["fields"]]
        return Info(fields=pairs, error=cached["error"], detail=cached["detail"])
    limit = _limit(panel)
    try:
        info = _POOL.submit(fetch, url, panel).result(timeout=limit + 0.2)
    except FutureTimeout:  # whatever the socket does, the page has its answer in time
        info = Info(error="timeout")
    seconds = FAILURE_CACHE if info.error else panel.source_cache_seconds
    if seconds:
        cache.set(key, {"fields": info.fields, "error": info.error, "detail": info.detail},
                  seconds)  # fmt: skip
    return info


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _limit(panel: CustomerPanel) -> float:
    low, high = TIMEOUT_RANGE
    return min(max(panel.source_timeout_ms, low), high) / 1000


#: Requests to sources run here, so a request that outlives its limit holds a pool thread,
#: not the page's (at most this many at once; more wait their limit and time out).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="customer-info")


def fetch(url: str, panel: CustomerPanel) -> Info:
    limit = _limit(panel)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if panel.source_header and panel.source_secret:
        request.add_header(panel.source_header, str(panel.source_secret))
    try:
        body = _get(request, limit)
    except _Failed as failed:
        return failed.info
    try:
        answer = json.loads(body)
    except ValueError:
        return Info(error="json")
    if not isinstance(answer, dict):
        return Info(error="json")
    return Info(fields=flatten(answer))


class _Failed(Exception):
    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(error)
        self.info = Info(error=error, detail=detail)


def _blocked(url: str) -> bool:
    """A link-local address (cloud metadata services live at 169.254.169.254): never asked."""
    parts = urllib.parse.urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname or "", parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return False  # the request itself will say it cannot reach the host
    return any(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_link_local for info in found)


def _get(request: urllib.request.Request, limit: float) -> bytes:
    if _blocked(request.full_url):
        raise _Failed("blocked")
    deadline = time.monotonic() + limit
    try:
        with _OPENER.open(request, timeout=limit) as response:
            return _read(response, deadline)
    except urllib.error.HTTPError as error:
        raise _Failed("http", str(error.code)) from None
    except TimeoutError:
        raise _Failed("timeout") from None
    except _TooLarge:
        raise _Failed("large") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        if isinstance(getattr(error, "reason", None), TimeoutError):
            raise _Failed("timeout") from None
        raise _Failed("network", type(error).__name__) from None


class _TooLarge(Exception):
    pass


def _read(response: Any, deadline: float) -> bytes:
    """The body, read against the whole request's deadline."""
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
        if sock is not None:
            sock.settimeout(left)
        chunk = response.read1(16384) if hasattr(response, "read1") else response.read(16384)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER:
            raise _TooLarge
        chunks.append(chunk)


def flatten(answer: dict[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """The answer's fields as (name, text), nested objects as ``a.b`` (two levels)."""
    out: list[tuple[str, str]] = []
    for name, value in answer.items():
        if len(out) >= MAX_FIELDS:
            break
        label = f"{prefix}{name}"[:80]
        if isinstance(value, dict) and depth < 1:
            out += flatten(value, f"{label}.", depth + 1)[: MAX_FIELDS - len(out)]
        elif isinstance(value, list):
            out.append((label, ", ".join(_text(v) for v in value[:10])[:MAX_VALUE]))
        else:
            out.append((label, _text(value)[:MAX_VALUE]))
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:MAX_VALUE]
    return str(value)
