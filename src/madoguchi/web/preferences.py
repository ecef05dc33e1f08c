"""The agent's own settings page (with their working hours and cap), and their
対応可能 / 離席 switch in the rail."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import actions, availability
from madoguchi.accounts.models import Agent
from madoguchi.core import params
from madoguchi.notifications import actions as notifications
from madoguchi.notifications import addresses
from madoguchi.web.account_forms import PreferencesForm, WorkingHoursForm
from madoguchi.web.current import AgentRequest, agent_required


@agent_required
def preferences(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    confirm = params.get_text(request, "confirm", max_length=1000)
    if confirm:
        return _confirm_address(request, confirm)
    if request.method == "POST" and "resend" in request.POST:
        notifications.ask_to_confirm(agent.user)
        return redirect("preferences")
    form = PreferencesForm(request.POST or None, instance=agent)
    hours = _hours_form(request, agent)
    if request.method == "POST" and all([form.is_valid(), hours.is_valid()]):
        with transaction.atomic():
            actions.update_preferences(
                agent,
                display_name=form.cleaned_data["display_name"],
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
                notify_by_mail=form.cleaned_data["notify_by_mail"],
                email=form.cleaned_data["email"],
            )
            availability.set_working_hours(
                agent,
                working_hours=hours.cleaned_data["working_hours"],
                max_open=hours.cleaned_data["max_open"],
            )
        if agent.notify_by_mail:
            notifications.ask_to_confirm(agent.user)
        response = redirect("preferences")
        response["Location"] += "?saved=1"
        return response
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "hours": hours,
        "saved": params.get_flag(request, "saved"),
        "confirmed": params.get_flag(request, "confirmed"),
        "mail_state": _mail_state(agent),
    }
    return render(request, "accounts/preferences.html", context, status=status)


def _mail_state(agent: Agent) -> str:
    """Where notification mail stands: off, confirmed, pending (link sent) or no_server."""
    if not agent.notify_by_mail or not agent.user.email:
        return "off"
    if addresses.is_confirmed(agent.user):
        return "confirmed"
    return "pending" if addresses.sending_mailbox(agent.user) else "no_server"


def _confirm_address(request: AgentRequest, token: str) -> HttpResponse:
    """The link of the confirmation mail, opened by its agent signed in."""
    if notifications.confirm_address(request.user, token):
        response = redirect("preferences")
        response["Location"] += "?confirmed=1"
        return response
    agent = request.agent
    context = {"form": PreferencesForm(instance=agent), "bad_link": True,
               "hours": _hours_form(request, agent), "mail_state": _mail_state(agent)}  # fmt: skip
    return render(request, "accounts/preferences.html", context, status=400)


def _hours_form(request: HttpRequest, agent: Agent) -> WorkingHoursForm:
    data = request.POST if request.method == "POST" else None
    return WorkingHoursForm(data, prefix="hours", initial=WorkingHoursForm.initial_for(agent))


@agent_required
@require_POST
def availability_switch(request: AgentRequest) -> HttpResponse:
    """対応可能 (``available=1``) or 離席 (``available=0``), from the rail; back to the page."""
    wanted = params.get_choice(request, "available", ("0", "1"), default="", post=True)
    if not wanted:
        raise params.BadParameter("available", "say 1 or 0")
    agent = request.agent
    available = wanted == "1"
    if availability.set_available(
        agent, available, actor_id=agent.user_id, reason=availability.SELF
    ):
        messages.success(request, _("You are available: new conversations may be assigned to you.")
                         if available else
                         _("You are away: no new conversations are assigned to you."))  # fmt: skip
    return back(request, "home")


def back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form was on: its ``next`` (a path of this site, not a
    fragment), else the Referer of this site, else ``fallback``."""
    allowed = {request.get_host()}
    for target in (
        params.get_text(request, "next", max_length=2000, post=True),
        request.headers.get("Referer", ""),
    ):
        if (
            target
            and not urlsplit(target).path.startswith("/f/")
            and url_has_allowed_host_and_scheme(
                target, allowed_hosts=allowed, require_https=request.is_secure()
            )
        ):
            return redirect(target)
    return redirect(fallback)
