"""``/setup/``: the first admin, created in the browser on the server itself only.

A new installation has no accounts and no default password. Until someone can sign in,
``/`` and ``/login/`` lead to ``/setup/``, which creates the first admin. Anyone who can
reach that page owns the installation, so it answers only to a browser on the server
itself (loopback address, loopback host name, no proxy headers); others are told to run
``madoguchi createadmin`` on the server. Once an active admin exists ``/setup/`` is a 404.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from madoguchi.accounts.firstrun import (
    AlreadySetUp,
    anyone_can_sign_in,
    create_first_admin,
    has_admin,
)
from madoguchi.web.account_forms import AcceptForm

#: Pages that lead to the first-run page while nobody can sign in.
LEADS_TO_SETUP = frozenset({"/", "/login/"})
#: Headers a reverse proxy adds: a request that carries one did not come from this machine.
#: ``HTTP_X_MADOGUCHI_FORWARDED``: core.proxy removed forwarding headers from this request.
PROXY_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP",
                 "HTTP_X_FORWARDED_HOST", "HTTP_X_MADOGUCHI_FORWARDED")  # fmt: skip


def _loopback_address(value: str) -> bool:
    try:
        return ipaddress.ip_address(value.split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False


def is_local(request: HttpRequest) -> bool:
    """The request comes from a browser on this machine, not through a proxy or a DNS name
    that only points here (DNS rebinding)."""
    if not _loopback_address(request.META.get("REMOTE_ADDR", "")):
        return False
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    host = request.get_host().lower()
    name = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0] or host
    return name == "localhost" or _loopback_address(name)


class FirstRunMiddleware:
    """While nobody can sign in, the home and sign-in pages lead to ``/setup/``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path in LEADS_TO_SETUP
            and request.method in ("GET", "HEAD")
            and not request.user.is_authenticated
            and not anyone_can_sign_in()
        ):
            return redirect("setup")
        return self.get_response(request)


class SetupForm(AcceptForm):
    """The invitation's fields (user name, name, password twice) and a mail address."""

    email = forms.EmailField(
        label=_lazy("Your mail address"),
        required=False,
        help_text=_lazy("For a new password by mail if you forget yours."),
    )
    field_order = ["username", "display_name", "email", "password", "password_again"]

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email") or "").lower()


def setup(request: HttpRequest) -> HttpResponse:
    if has_admin():
        raise Http404("already set up")
    if not is_local(request):
        return render(request, "accounts/setup.html", {"local": False}, status=403)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        try:
            agent = create_first_admin(
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                email=data["email"],
            )
        except AlreadySetUp:
            raise Http404("already set up") from None
        login(request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _(
                "Welcome, %(name)s. Start by adding your team's first mailbox: its address, "
                "and the IMAP and SMTP servers it uses."
            )
            % {"name": agent.name},
        )
        return redirect("mailbox_admin")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/setup.html", {"local": True, "form": form}, status=status)
