"""Managing a mailbox's rules: create, change, copy, delete, switch on and off, reorder.

Every change is checked first (``clean``: a rule's JSON against the known fields, ops and
actions; ``ValueError`` with a sentence for the form) and recorded (``rule.saved`` with
what changed, ``rule.deleted``). Positions stay dense (0, 1, 2, ... per mailbox), so "up"
and "down" swap neighbours and a new rule goes last. The caller checked that the actor may
manage the mailbox's automation (a manager or admin who sees it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from madoguchi.automation import rule_actions, rules
from madoguchi.automation.models import Group, Rule, Strategy
from madoguchi.conversations.models import Status, Tag
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import assignable
from madoguchi.reply_templates.models import Template

MAX_NAME = 200
MAX_TAG = Tag._meta.get_field("name").max_length or 64


@dataclass
class RuleData:
    """A rule as checked by ``clean``, ready to store."""

    name: str
    match: str = "all"
    conditions: list[dict[str, str]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


def clean(mailbox: Mailbox, data: Mapping[str, Any]) -> RuleData:
    """``data`` (name, match, conditions, actions) checked; ``ValueError`` for the first
    problem."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValueError(_("The rule needs a name."))
    if len(name) > MAX_NAME:
        raise ValueError(_("The name is longer than %(max)d characters.") % {"max": MAX_NAME})
    match = str(data.get("match") or "all")
    conditions = clean_conditions(match, _listed(data.get("conditions"), _("Conditions")))
    actions = [clean_action(mailbox, a) for a in _listed(data.get("actions"), _("Actions"))]
    if not actions:
        raise ValueError(_("The rule needs at least one action."))
    if len(actions) > rule_actions.MAX_ACTIONS:
        raise ValueError(
            _("A rule has at most %(max)d actions.") % {"max": rule_actions.MAX_ACTIONS}
        )
    return RuleData(name, match, conditions, actions)


def _listed(value: object, what: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(_("%(what)s must be a list.") % {"what": what})
    return value


def clean_conditions(match: str, conditions: Sequence[Any]) -> list[dict[str, str]]:
    """The conditions as stored: the fields each needs, the values as typed (stripped)."""
    rules.compile_rule(match, conditions)  # raises ValueError naming the problem
    out = []
    for c in conditions:
        item = {"field": str(c["field"]), "op": str(c["op"]), "value": str(c["value"]).strip()}
        if item["field"] == "header":
            item["header"] = str(c["header"]).strip()
        out.append(item)
    return out


def clean_action(mailbox: Mailbox, action: Any) -> dict[str, Any]:
    """One action checked against the mailbox (agents, groups, templates it may use)."""
    if not isinstance(action, Mapping):
        raise ValueError(_("An action must be an object."))
    kind = str(action.get("type", ""))
    if kind not in rule_actions.ACTION_TYPES:
        raise ValueError(_("Unknown action “%(type)s”.") % {"type": kind})
    cleaner = _CLEANERS.get(kind)
    return {"type": kind, **(cleaner(mailbox, action) if cleaner else {})}


def _assign_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    return {"agent": _agent(mailbox, action.get("agent"))}


def _notify_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    who = action.get("agent")
    return {"agent": "assignee" if who == "assignee" else _agent(mailbox, who)}


def _status_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    status = str(action.get("status", ""))
    if status not in Status.values:
        raise ValueError(_("Choose a status."))
    return {"status": status}


def _reply_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    return {"template": _template(mailbox, action.get("template"))}


def _tag_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    tag = str(action.get("tag") or "").strip()
    if not tag or len(tag) > MAX_TAG:
        raise ValueError(_("A tag needs a name of at most %(max)d characters.") % {"max": MAX_TAG})
    return {"tag": tag}


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _agent(mailbox: Mailbox, value: Any) -> int:
    agent = _id(value)
    if agent is None or not assignable(mailbox, agent):
        raise ValueError(_("Choose an agent of this mailbox."))
    return agent


def _group_action(mailbox: Mailbox, action: Mapping[str, Any]) -> dict[str, Any]:
    group = _id(action.get("group")) if action.get("group") not in (None, "") else None
    if action.get("group") not in (None, "") and (
        group is None or not Group.objects.filter(pk=group).exists()
    ):
        raise ValueError(_("Choose a group."))
    strategy = str(action.get("strategy", ""))
    if strategy not in Strategy.values or strategy == Strategy.OFF:
        raise ValueError(_("Choose how the group's member is chosen."))
    return {"group": group, "strategy": strategy}


def _template(mailbox: Mailbox, value: Any) -> int:
    template = _id(value)
    usable = Template.objects.filter(Q(mailbox=None) | Q(mailbox=mailbox), pk=template or 0)
    if template is None or not usable.exists():
        raise ValueError(_("Choose a template of this mailbox."))
    return template


_CLEANERS: dict[str, Callable[[Mailbox, Mapping[str, Any]], dict[str, Any]]] = {
    "assign": _assign_action,
    "assign_group": _group_action,
    "notify": _notify_action,
    "status": _status_action,
    "reply": _reply_action,
    "tag": _tag_action,
    "untag": _tag_action,
}


# Changes


def create_rule(
    mailbox: Mailbox, data: Mapping[str, Any], *, actor_id: int | None, enabled: bool = True
) -> Rule:
    """A new rule, last in the mailbox's order."""
    checked = clean(mailbox, data)
    with transaction.atomic():
        order = list(_lock(mailbox.pk))
        position = order[-1].position + 1 if order else 0
        rule = Rule.objects.create(
            mailbox=mailbox, position=position, enabled=enabled, created_by_id=actor_id,
            name=checked.name, match=checked.match, conditions=checked.conditions,
            actions=checked.actions,
        )  # fmt: skip
        _saved(rule, "created", actor_id)
    return rule


def update_rule(rule: Rule, data: Mapping[str, Any], *, actor_id: int | None) -> Rule:
    checked = clean(rule.mailbox, data)
    with transaction.atomic():
        rule.name, rule.match = checked.name, checked.match
        rule.conditions, rule.actions = checked.conditions, checked.actions
        rule.save(update_fields=["name", "match", "conditions", "actions", "updated_at"])
        _saved(rule, "updated", actor_id)
    return rule


def delete_rule(rule: Rule, *, actor_id: int | None) -> None:
    with transaction.atomic():
        mailbox_id, pk, name = rule.mailbox_id, rule.pk, rule.name
        rule.delete()
        _renumber(list(_lock(mailbox_id)))
        events.record(
            EventType.RULE_DELETED, mailbox_id=mailbox_id, actor_id=actor_id, rule=pk, name=name
        )


def copy_rule(rule: Rule, *, actor_id: int | None) -> Rule:
    """A copy right after ``rule``, switched off (so one mail is not handled twice)."""
    with transaction.atomic():
        order = list(_lock(rule.mailbox_id))
        copy = Rule.objects.create(
            mailbox_id=rule.mailbox_id, position=rule.position + 1, enabled=False,
            name=(_("%(name)s (copy)") % {"name": rule.name})[:MAX_NAME], match=rule.match,
            conditions=rule.conditions, actions=rule.actions, created_by_id=actor_id,
        )  # fmt: skip
        at = next(i for i, r in enumerate(order) if r.pk == rule.pk)
        _renumber([*order[: at + 1], copy, *order[at + 1 :]])
        _saved(copy, "copied", actor_id)
    return copy


def set_enabled(rule: Rule, enabled: bool, *, actor_id: int | None) -> None:
    with transaction.atomic():
        if rule.enabled == enabled:
            return
        rule.enabled = enabled
        rule.save(update_fields=["enabled", "updated_at"])
        _saved(rule, "enabled" if enabled else "disabled", actor_id)


def move(rule: Rule, step: int, *, actor_id: int | None) -> bool:
    """One place earlier (``step`` -1) or later (+1); False at either end."""
    with transaction.atomic():
        order = list(_lock(rule.mailbox_id))
        at = next(i for i, r in enumerate(order) if r.pk == rule.pk)
        to = at + step
        if step not in (-1, 1) or not 0 <= to < len(order):
            return False
        order[at], order[to] = order[to], order[at]
        _renumber(order)
        rule.position = to
        _saved(rule, "moved", actor_id)
    return True


def _lock(mailbox_id: int) -> QuerySet[Rule]:
    """The mailbox's rules in order, locked (PostgreSQL) for a change of the order."""
    return Rule.objects.select_for_update().filter(mailbox_id=mailbox_id).order_by("position", "id")


def _renumber(order: list[Rule]) -> None:
    changed = [r for i, r in enumerate(order) if r.position != i]
    for i, r in enumerate(order):
        r.position = i
    Rule.objects.bulk_update(changed, ["position"])


def _saved(rule: Rule, change: str, actor_id: int | None) -> None:
    events.record(
        EventType.RULE_SAVED, mailbox_id=rule.mailbox_id, actor_id=actor_id, rule=rule.pk,
        name=rule.name, change=change,
    )  # fmt: skip
