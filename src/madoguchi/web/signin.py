"""Signing in: user name and password, then, for agents who turned it on, a code.

The password step never signs a two-step agent in: it only remembers in the session, for
a few minutes, who passed it. The code step signs in. Both steps refuse a locked-out user
name or address before checking anything, and a wrong code counts as a failed sign-in
(django-axes), so guessing codes locks out like guessing passwords.
"""

from __future__ import annotations

import time
from typing import Any

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.models import Device

from madoguchi.accounts import lockout, twofactor
from madoguchi.accounts.models import RecoveryCodes

PENDING = "signin.pending"
#: How long the code step waits after the password step.
PENDING_SECONDS = 300

THROTTLED = gettext_noop("Too many wrong codes in a row. Wait a few seconds and try again.")
WRONG_CODE = gettext_noop("That code is not right. Try the newest code of your app.")
RECOVERY_USED = gettext_noop(
    "You signed in with a recovery code. %(left)s codes are left; make new ones in Settings "
    "if you are running out."
)


class SignInView(LoginView):
    template_name = "accounts/login.html"
    form_class = AuthenticationForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150]
        if not lockout.allowed(request, username):
            return lockout_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if twofactor.has_two_factor(user):
            self.request.session[PENDING] = {
                "user": user.pk, "backend": getattr(user, "backend", ""),
                "at": time.time(), "next": self.get_success_url(),
            }  # fmt: skip
            return redirect("login_code")
        response = super().form_valid(form)
        lockout.forgive(self.request, user.get_username())
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        expired = self.request.GET.get("expired") == "1"
        return {**super().get_context_data(**kwargs), "step_expired": expired}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponseBase | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page saying this account or address is locked for now (axes calls this)."""
    request.session.pop(PENDING, None)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/login.html", {"locked": True, "minutes": minutes}, status=429)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "inputmode": "text", "spellcheck": "false"}),
    )  # fmt: skip


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    return (user, pending) if user is not None else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def code(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    found = _pending_user(request)
    if found is None:
        response = redirect("login")
        response["Location"] += "?expired=1"
        return response
    user, pending = found
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if not lockout.allowed(request, user.get_username()):
            return lockout_response(request)
        if form.is_valid():
            device = twofactor.verify(user, form.cleaned_data["code"], request=request)
            if device is False:
                form.add_error("code", _(THROTTLED))
            elif device is None:
                credentials = {"username": user.get_username(), "step": "code"}
                user_login_failed.send(__name__, credentials=credentials, request=request)
                if lockout.just_locked(request):
                    return lockout_response(request)
                form.add_error("code", _(WRONG_CODE))
            else:
                return _finish(request, user, pending, device)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/twofactor_code.html", {"form": form}, status=status)


def _finish(
    request: HttpRequest, user: User, pending: dict[str, Any], device: Device
) -> HttpResponse:
    del request.session[PENDING]
    recovery = isinstance(device, RecoveryCodes)
    request.second_step = "recovery" if recovery else "totp"  # type: ignore[attr-defined]
    auth_login(request, user, backend=pending.get("backend") or None)
    django_otp.login(request, device)
    lockout.forgive(request, user.get_username())
    if recovery:
        left = twofactor.recovery_codes_left(user)
        messages.warning(request, _(RECOVERY_USED) % {"left": left})
    return redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)


sign_in = SignInView.as_view()
