"""The agent's own settings page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from madoguchi.accounts import actions
from madoguchi.accounts.forms import PreferencesForm
from madoguchi.conversations.views import rail


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    agent = getattr(request, "agent", None)  # set by AgentPreferencesMiddleware
    if agent is None:
        raise Http404("no agent")
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
        response = redirect("preferences")
        response["Location"] += "?saved=1"
        return response
    status = 400 if request.method == "POST" else 200
    context = {**rail(request), "form": form, "saved": request.GET.get("saved") == "1"}
    return render(request, "accounts/preferences.html", context, status=status)
