"""Locking out after failed sign-ins, on top of django-axes.

django-axes counts failures (a wrong password, or a wrong code at the second step) per user
name and per client address, and refuses sign-in for ``AXES_COOLOFF_TIME`` once either
reaches ``AXES_FAILURE_LIMIT``. This module holds the parts Madoguchi decides itself: the
client address (REMOTE_ADDR only), the checks the sign-in views make before any password is
tried, forgiving a user's own typos after they sign in, and the admin's list and unlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against: the socket's peer, never a header.

    Behind a trusted proxy, the proxy middleware has already put the client's address in
    REMOTE_ADDR; a header sent by anyone else is not believed.
    """
    return request.META.get("REMOTE_ADDR") or None


class LockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Refuses a locked-out user name or address before any password is checked.

    Django's test client calls ``authenticate`` without a request; that is let through to
    the next backend here. Every sign-in path of the app passes the request, and the
    sign-in views also check ``allowed`` themselves before authenticating.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]


def allowed(request: HttpRequest, username: str) -> bool:
    """May ``username`` try to sign in from this request's address now?"""
    return bool(AxesProxyHandler.is_allowed(request, {"username": username}))


def just_locked(request: HttpRequest) -> bool:
    """Did the failure just recorded on ``request`` lock it out?"""
    return bool(getattr(request, "axes_locked_out", False))


def forgive(request: HttpRequest, username: str) -> None:
    """After a full sign-in, forget this user's failures from this address.

    Only that pair: an agent who signs in must not wipe the failures others caused from the
    same address (axes' AXES_RESET_ON_SUCCESS would, letting an insider guess without end).
    """
    ip = client_ip(request)
    if ip:
        reset(ip=ip, username=username)


@dataclass(frozen=True)
class Lock:
    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    until: datetime


def current_locks() -> list[Lock]:
    """User names and addresses that are locked out now, for the team page."""
    cool_off = get_cool_off()
    if cool_off is None:  # pragma: no cover - always set in settings
        return []
    limit = int(settings.AXES_FAILURE_LIMIT)
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
    locks = []
    for kind in ("username", "ip_address"):
        rows = (
            recent.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by(kind)
        )
        locks += [Lock(kind, r[kind], r["failures"], r["last"] + cool_off) for r in rows]
    return locks


def unlock(kind: str, value: str) -> int:
    """Forget the failures of one user name or one address; returns how many rows went."""
    if not value:
        return 0
    if kind == "username":
        return int(reset(username=value))
    if kind == "ip_address":
        return int(reset(ip=value))
    raise ValueError(f"unknown lock kind {kind!r}")
