"""Two-step sign-in, enforced on every request.

- A session of an agent who has two-step sign-in but did not pass it in this session (it was
  signed in before they turned it on, elsewhere) is signed out.
- When the team requires two-step sign-in, an agent without it sees only the page that
  turns it on (and can sign out) until they have done so.

Runs after django-otp's OTPMiddleware, which tells whether the session passed the second step.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from madoguchi.accounts import twofactor

#: Pages an agent may open before turning on a required second step.
SETUP_PAGES = {"twofactor", "twofactor_start", "twofactor_confirm", "logout", "login",
               "login_code", "health"}  # fmt: skip


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # django-otp's OTPMiddleware sets otp_device when this session passed the second step
        if user.is_authenticated and getattr(user, "otp_device", None) is None:
            if twofactor.has_two_factor(user):
                logout(request)
                return redirect("login")
            if twofactor.required() and _url_name(request) not in SETUP_PAGES:
                return redirect("twofactor")
        return self.get_response(request)


def _url_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).url_name or ""
    except Resolver404:
        return ""
