"""The agent's own settings page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from madoguchi.accounts import actions
from madoguchi.accounts.models import Agent
from madoguchi.core import params
from madoguchi.notifications import actions as notifications
from madoguchi.notifications import addresses
from madoguchi.web.account_forms import PreferencesForm
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
    if request.method == "POST" and form.is_valid():
        actions.update_preferences(
            agent,
            display_name=form.cleaned_data["display_name"],
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
            notify_by_mail=form.cleaned_data["notify_by_mail"],
            email=form.cleaned_data["email"],
        )
        if agent.notify_by_mail:
            notifications.ask_to_confirm(agent.user)
        response = redirect("preferences")
        response["Location"] += "?saved=1"
        return response
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
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
               "mail_state": _mail_state(agent)}  # fmt: skip
    return render(request, "accounts/preferences.html", context, status=400)
