"""Admin actions of the team page about sign-in: unlock a locked user name or address,
require two-step sign-in of everyone, turn off an agent's two-step sign-in (lost phone)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import audit, lockout, twofactor
from madoguchi.accounts.models import Agent, AuditAction, TotpDevice
from madoguchi.accounts.queries import require_admin
from madoguchi.web.current import AgentRequest, agent_required


@agent_required
@require_POST
def unlock(request: AgentRequest) -> HttpResponse:
    admin = require_admin(request.agent)
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "")[:200]
    if kind not in ("username", "ip_address") or not value:
        return HttpResponseBadRequest("kind must be username or ip_address, with a value")
    removed = lockout.unlock(kind, value)
    audit.record(AuditAction.UNLOCKED, actor=admin.user, target=value, request=request,
                 kind=kind, failures_forgotten=removed)  # fmt: skip
    messages.success(request, _("Unlocked: %(value)s") % {"value": value})
    return redirect("agent_admin")


@agent_required
@require_POST
def require_two_factor(request: AgentRequest) -> HttpResponse:
    admin = require_admin(request.agent)
    wanted = request.POST.get("required") == "on"
    if wanted and not twofactor.has_two_factor(admin.user):
        messages.error(request, _("Turn on two-step sign-in for yourself first."))
        return redirect("agent_admin")
    twofactor.set_required(wanted, actor=admin.user, request=request)
    messages.success(request, _("Saved."))
    return redirect("agent_admin")


@agent_required
@require_POST
def reset_two_factor(request: AgentRequest, agent_id: int) -> HttpResponse:
    admin = require_admin(request.agent)
    agent = Agent.objects.select_related("user").filter(pk=agent_id).first()
    if agent is None:
        raise Http404("no such agent")
    twofactor.disable(agent.user, actor=admin.user, request=request)
    text = _("Two-step sign-in of %(name)s is off; they can turn it on again.")
    messages.success(request, text % {"name": agent.name})
    return redirect("agent_admin")


def signin_context() -> dict[str, object]:
    """What the team page shows about sign-in: locks, who has two-step sign-in, the rule."""
    with_2fa = set(TotpDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    return {"locks": lockout.current_locks(), "with_2fa": with_2fa,
            "require_2fa": twofactor.required()}  # fmt: skip
