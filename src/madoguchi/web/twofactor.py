"""The agent's own two-step sign-in settings (/settings/2fa/): turn it on with an
authenticator app, see and renew the recovery codes, turn it off with the password."""

from __future__ import annotations

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from madoguchi.accounts import twofactor
from madoguchi.web.signin import CodeForm

WRONG_SETUP_CODE = gettext_noop(
    "That code is not right. Check the time of your phone and try the newest code."
)


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    on = twofactor.has_two_factor(user)
    context = {
        "on": on, "required": twofactor.required(),
        "codes_left": twofactor.recovery_codes_left(user) if on else 0,
        "password_form": PasswordForm(),
    }  # fmt: skip
    return render(request, "accounts/twofactor.html", context)


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    twofactor.start(_user(request))
    return redirect("twofactor_confirm")


@login_required
@sensitive_post_parameters("code")
def confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    device = twofactor.unconfirmed(user)
    if device is None:
        return redirect("twofactor")
    try:
        secret = twofactor.secret_text(device)
    except ValueError:  # the secret key changed since "start": begin again
        device = twofactor.start(user)
        secret = twofactor.secret_text(device)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm(device, form.cleaned_data["code"], request=request)
        if codes is not None:
            django_otp.login(request, device)  # this session passed the second step
            context = {"codes": codes, "first": True}
            return render(request, "accounts/twofactor_codes.html", context)
        form.add_error("code", _(WRONG_SETUP_CODE))
    url = twofactor.config_url(device, user)
    context = {
        "form": form, "secret": secret,
        "qr": twofactor.qr_data_uri(url), "required": twofactor.required(),
    }  # fmt: skip
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/twofactor_setup.html", context, status=status)


@login_required
@require_POST
def recovery(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not twofactor.has_two_factor(user):
        return redirect("twofactor")
    codes = twofactor.regenerate_recovery_codes(user, request=request)
    return render(request, "accounts/twofactor_codes.html", {"codes": codes})


@login_required
@require_POST
@sensitive_post_parameters("password")
def disable(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordForm(request.POST)
    if twofactor.required():
        messages.error(request, _("Your team requires two-step sign-in; it cannot be turned off."))
        return redirect("twofactor")
    if form.is_valid() and user.check_password(form.cleaned_data["password"]):
        twofactor.disable(user, actor=user, request=request)
        messages.success(request, _("Two-step sign-in is off."))
        return redirect("twofactor")
    form.add_error("password", _("That is not your password."))
    context = {
        "on": True, "required": False, "password_form": form,
        "codes_left": twofactor.recovery_codes_left(user),
    }  # fmt: skip
    return render(request, "accounts/twofactor.html", context, status=400)
