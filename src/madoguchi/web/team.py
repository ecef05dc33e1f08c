"""The team page (admins): agents, their roles and access, and invitations; and the page
where an invited person joins."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import actions
from madoguchi.accounts.models import Agent, Invitation, Role
from madoguchi.accounts.queries import require_admin
from madoguchi.web.account_forms import AcceptForm, InviteForm, MemberForm
from madoguchi.web.current import AgentRequest, agent_required
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
    agents = Agent.objects.select_related("user").order_by("user__username")
    pending = Invitation.objects.filter(accepted_by__isnull=True, revoked=False).order_by("-pk")
    status = 400 if request.method == "POST" and not link else 200
    return render(request, "admin/team.html", {
        "form": form, "link": link, "roles": Role, "agents": agents,
        "pending": pending, **signin_context(),
    }, status=status)  # fmt: skip


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
