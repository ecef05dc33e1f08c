"""Assignment pages (managers and admins): agent groups (担当グループ) at ``/admin/groups/`` and
each mailbox's automatic assignment at ``/admin/mailboxes/<id>/assignment``.

The writes are ``automation.groups``; who would get the next conversation, and why someone
would not, comes from ``automation.assignment`` (``roster``, ``next_in_turn``), so the page
explains the choice the intake will make.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi.accounts.models import Agent, Role
from madoguchi.accounts.queries import require_reviewer
from madoguchi.automation import assignment, groups
from madoguchi.automation.models import AssignmentPolicy, Group, Strategy
from madoguchi.core.params import ModelIdsField
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import access_mailbox, visible_mailboxes
from madoguchi.web.current import AgentRequest, agent_required

#: The most open conversations a cap may say, and the longest handover wait (30 days).
MAX_CAP = 10_000
MAX_REOFFER_MINUTES = 30 * 24 * 60


def _team() -> Any:
    return User.objects.filter(is_active=True, agent__isnull=False).select_related("agent")


class GroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=groups.NAME_MAX)
    strategy = forms.ChoiceField(
        label=gettext_lazy("How conversations are handed out"),
        choices=[c for c in Strategy.choices if c[0] != Strategy.OFF],
        initial=Strategy.ROUND_ROBIN,
    )
    members = ModelIdsField(
        label=gettext_lazy("Members"), queryset=User.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args: Any, group: Group | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        field = self.fields["members"]
        field.queryset = _team().order_by("agent__display_name", "username")  # type: ignore[attr-defined]
        field.label_from_instance = lambda user: user.agent.name  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        same = Group.objects.filter(name__iexact=name)
        if self.group is not None:
            same = same.exclude(pk=self.group.pk)
        if same.exists():
            raise ValidationError(_("Another group has this name."))
        return name

    def member_ids(self) -> list[int]:
        return [user.pk for user in self.cleaned_data["members"]]


class PolicyForm(forms.Form):
    strategy = forms.ChoiceField(
        label=gettext_lazy("Automatic assignment"), choices=Strategy.choices
    )
    group = forms.TypedChoiceField(
        label=gettext_lazy("Among"), coerce=int, empty_value=None, required=False
    )
    max_open = forms.IntegerField(
        label=gettext_lazy("At most this many open conversations per agent"),
        help_text=gettext_lazy("Empty: no cap. An agent's own cap, when set, wins."),
        min_value=0, max_value=MAX_CAP, required=False,
    )  # fmt: skip
    reoffer_after_minutes = forms.IntegerField(
        label=gettext_lazy("Hand on after (minutes)"),
        help_text=gettext_lazy(
            "When a customer writes to an agent who is away (離席 or outside their working "
            "hours), their conversation goes to someone else after this many minutes, or back "
            "to Unassigned. Empty: never."
        ),
        min_value=1, max_value=MAX_REOFFER_MINUTES, required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("The mailbox's members"))]
        choices += [(str(pk), name) for pk, name in Group.objects.values_list("pk", "name")]
        self.fields["group"].choices = choices  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, policy: AssignmentPolicy) -> dict[str, Any]:
        return {
            "strategy": policy.strategy, "group": policy.group_id or "",
            "max_open": policy.max_open, "reoffer_after_minutes": policy.reoffer_after_minutes,
        }  # fmt: skip


@agent_required
def group_list(request: AgentRequest) -> HttpResponse:
    """Every group with its members and the mailboxes that hand out through it; a new one."""
    manager = require_reviewer(request.agent)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = groups.create_group(
                form.cleaned_data["name"], strategy=form.cleaned_data["strategy"],
                member_ids=form.member_ids(), actor_id=manager.user_id,
            )  # fmt: skip
        except groups.GroupNameTaken:
            form.add_error("name", _("Another group has this name."))
        else:
            messages.success(request, _("Group “%(name)s” created.") % {"name": group.name})
            return redirect("group_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "groups/list.html", {
        "form": form, "groups": _groups_shown(), "people": availability_rows(manager),
    }, status=status)  # fmt: skip


def _groups_shown() -> list[Group]:
    found = list(Group.objects.prefetch_related("memberships__user__agent").order_by("name"))
    used: dict[int, list[str]] = {}
    policies = AssignmentPolicy.objects.filter(group__isnull=False).select_related("mailbox")
    for policy in policies.order_by("mailbox__address"):
        assert policy.group_id is not None
        used.setdefault(policy.group_id, []).append(policy.mailbox.name or policy.mailbox.address)
    for group in found:
        group.people = sorted(  # type: ignore[attr-defined]
            (m.user.agent for m in group.memberships.all() if hasattr(m.user, "agent")),
            key=lambda agent: agent.name,
        )
        group.mailboxes = used.get(group.pk, [])  # type: ignore[attr-defined]
    return found


def availability_rows(viewer: Agent) -> list[Agent]:
    """The agents whose 対応可能 / 離席 ``viewer`` may set: everyone for an admin; for a
    manager, the agents of the mailboxes they see, and themselves."""
    agents = Agent.objects.select_related("user").filter(user__is_active=True)
    if viewer.role != Role.ADMIN:
        boxes = visible_mailboxes(viewer).values("pk")
        mine = Q(user__memberships__mailbox__in=boxes) | Q(pk=viewer.pk)
        agents = agents.filter(mine).distinct()
    return sorted(agents, key=lambda agent: (agent.name, agent.pk))


def _group_or_404(group_id: int) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise Http404("no such group")
    return group


@agent_required
def group_edit(request: AgentRequest, group_id: int) -> HttpResponse:
    """Rename a group, change its strategy and members."""
    manager = require_reviewer(request.agent)
    group = _group_or_404(group_id)
    initial = {"name": group.name, "strategy": group.strategy,
               "members": list(group.memberships.values_list("user_id", flat=True))}  # fmt: skip
    form = GroupForm(request.POST or None, group=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            _save_group(group, form, actor_id=manager.user_id)
        except groups.GroupNameTaken:
            form.add_error("name", _("Another group has this name."))
        else:
            messages.success(request, _("Saved."))
            return redirect("group_edit", group_id=group.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "groups/edit.html", {"form": form, "group": group}, status=status)


def _save_group(group: Group, form: GroupForm, *, actor_id: int) -> None:
    with transaction.atomic():
        groups.rename_group(group, form.cleaned_data["name"], actor_id=actor_id)
        groups.set_strategy(group, form.cleaned_data["strategy"], actor_id=actor_id)
        groups.set_members(group, form.member_ids(), actor_id=actor_id)


@agent_required
@require_POST
def group_delete(request: AgentRequest, group_id: int) -> HttpResponse:
    manager = require_reviewer(request.agent)
    group = _group_or_404(group_id)
    groups.delete_group(group, actor_id=manager.user_id)
    messages.success(request, _("Group “%(name)s” deleted.") % {"name": group.name})
    return redirect("group_list")


@agent_required
def mailbox_assignment(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """How one mailbox hands out its new conversations, and who would get the next one."""
    manager = require_reviewer(request.agent)
    mailbox = access_mailbox(manager, mailbox_id)
    policy = groups.policy_of(mailbox)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy))
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            groups.save_policy(
                mailbox, strategy=data["strategy"], group_id=data["group"],
                max_open=data["max_open"], reoffer_after_minutes=data["reoffer_after_minutes"],
                actor_id=manager.user_id,
            )  # fmt: skip
        except ValueError:  # the group was deleted meanwhile
            form.add_error("group", _("This group no longer exists."))
        else:
            messages.success(request, _("Saved."))
            return redirect("mailbox_assignment", mailbox_id=mailbox.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "groups/assignment.html", _assignment_context(mailbox, policy, form),
                  status=status)  # fmt: skip


def _assignment_context(
    mailbox: Mailbox, policy: AssignmentPolicy, form: PolicyForm
) -> dict[str, Any]:
    now = timezone.now()
    roster = assignment.roster(mailbox, policy, now)
    following = assignment.next_in_turn(mailbox, policy, now)
    return {
        "edited": mailbox, "form": form, "policy": policy, "roster": roster,
        "next": next((row.agent for row in roster if row.agent.user_id == following), None),
        "waiting": mailbox.conversations.filter(
            assignee__isnull=True, status__in=assignment.OPEN_STATUSES, kind="normal"
        ).count(),
    }  # fmt: skip
