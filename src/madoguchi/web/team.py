"""The team page (admins): agents, their roles and access, their availability (対応可能 /
離席), and invitations; and the page where an invited person joins. Managers set an agent
away or back from the groups page (``agent_availability`` serves both)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import actions, availability
from madoguchi.accounts.models import Agent, Invitation, Role
from madoguchi.accounts.queries import require_admin, require_reviewer
from madoguchi.automation.assignment import open_counts
from madoguchi.core import params
from madoguchi.web.account_forms import AcceptForm, InviteForm, MemberForm
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.groups import availability_rows
from madoguchi.web.preferences import back
from madoguchi.web.security import signin_context


@agent_required
def agent_admin(request: AgentRequest) -> HttpResponse:
    admin = require_admin(request.agent)
    form = InviteForm(request.POST or None)
    link = ""
    if request.method == "POST" and form.is_valid():
        _invitation, token = actions.invite_agent(
            form.cleaned_data["email"],
            role=Role(form.cleaned_data["role"]),
            mailboxes=list(form.cleaned_data["mailboxes"]),
            invited_by=admin.user,
        )
        link = request.build_absolute_uri(f"/invite/{token}/")
        form = InviteForm()
    agents = list(Agent.objects.select_related("user").order_by("user__username"))
    pending = Invitation.objects.filter(accepted_by__isnull=True, revoked=False).order_by("-pk")
    status = 400 if request.method == "POST" and not link else 200
    return render(request, "admin/team.html", {
        "form": form, "link": link, "roles": Role, "agents": _with_workload(agents),
        "pending": pending, **signin_context(),
    }, status=status)  # fmt: skip


def _with_workload(agents: list[Agent]) -> list[Agent]:
    """Each agent with ``open`` (new, open and held conversations they have) and ``working``
    (inside their working hours now): what automatic assignment looks at (one query)."""
    counts, now = open_counts(a.user_id for a in agents), timezone.now()
    for agent in agents:
        agent.open = counts.get(agent.user_id, 0)  # type: ignore[attr-defined]
        agent.working = availability.working(agent, now)  # type: ignore[attr-defined]
    return agents


@agent_required
@require_POST
def agent_availability(request: AgentRequest, agent_id: int) -> HttpResponse:
    """Set an agent 離席 (``available=0``) or back 対応可能 (``available=1``): admins anyone,
    managers the agents of their mailboxes (404 for others, as for a missing one)."""
    manager = require_reviewer(request.agent)
    agent = next((a for a in availability_rows(manager) if a.pk == agent_id), None)
    if agent is None:
        raise Http404("no such agent")
    wanted = params.get_choice(request, "available", ("0", "1"), default="", post=True)
    if not wanted:
        raise params.BadParameter("available", "say 1 or 0")
    reason = availability.SELF if agent.pk == manager.pk else availability.MANAGER
    if availability.set_available(agent, wanted == "1", actor_id=manager.user_id, reason=reason):
        text = _("%(name)s is available.") if wanted == "1" else _("%(name)s is away.")
        messages.success(request, text % {"name": agent.name})
    return back(request, "agent_admin" if manager.role == Role.ADMIN else "group_list")


@agent_required
@require_POST
def agent_update(request: AgentRequest, agent_id: int) -> HttpResponse:
    admin = require_admin(request.agent)
    agent = Agent.objects.select_related("user").filter(pk=agent_id).first()
    if agent is None:
        raise Http404("no such agent")
    form = MemberForm(request.POST, prefix=f"a{agent.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
    elif agent.pk == admin.pk and (
        form.cleaned_data["role"] != Role.ADMIN or not form.cleaned_data["active"]
    ):
        messages.error(request, _("You cannot take your own admin rights away."))
    else:
        actions.change_role(agent, Role(form.cleaned_data["role"]), actor_id=admin.user_id)
        actions.set_active(agent, form.cleaned_data["active"], actor_id=admin.user_id)
        messages.success(request, _("Saved."))
    return redirect("agent_admin")


@agent_required
@require_POST
def invitation_revoke(request: AgentRequest, invitation_id: int) -> HttpResponse:
    admin = require_admin(request.agent)
    invitation = Invitation.objects.filter(pk=invitation_id, accepted_by__isnull=True).first()
    if invitation is None:
        raise Http404("no such invitation")
    actions.revoke_invitation(invitation, actor_id=admin.user_id)
    messages.success(request, _("The invitation no longer works."))
    return redirect("agent_admin")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = actions.open_invitation(token)
    if invitation is None:
        return render(request, "accounts/invite_gone.html", status=404)
    form = AcceptForm(request.POST or None, initial={"username": invitation.email.split("@")[0]})
    if request.method == "POST" and form.is_valid():
        try:
            agent = actions.accept_invitation(
                invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
            )
        except ValueError:
            return render(request, "accounts/invite_gone.html", status=404)
        login(request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/invite.html", {"form": form, "invitation": invitation}, status=status
    )
