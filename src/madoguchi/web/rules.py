"""The rules pages of a mailbox (振り分けルール): the ordered list and the rule builder.

For managers and admins of mailboxes they may see (``require_reviewer``, then
``access_mailbox``: 403 for agents, 404 for a mailbox not theirs). Everything works without
the script: the list's up/down, on/off, copy and delete are small POST forms (delete asks
first on a page of its own); the builder's rows come back one more or one fewer from the
server when "add" or "remove" is pressed, and "Try on the last 30 days" returns the whole
page with the answer. ``rules.js`` adds and removes rows in place, shows only the inputs a
row's field or action needs, and fetches the try-out alone (``X-Fragment: tryout``).

The builder posts each row's inputs under one name per column (``c_field``, ``c_op``, ...;
``a_type``, ``a_agent``, ...), every row with every input, so the lists line up. Whatever
comes, the answer is the page with its errors, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.queries import require_reviewer
from madoguchi.automation import rule_admin, rules, tryout
from madoguchi.automation.models import Group, Rule, Strategy
from madoguchi.automation.rule_actions import ACTION_TYPES, MAX_ACTIONS
from madoguchi.conversations.models import Status
from madoguchi.mailboxes.models import Mailbox
from madoguchi.mailboxes.queries import access_mailbox, assignees
from madoguchi.reply_templates.models import Template
from madoguchi.web.current import AgentRequest, agent_required
from madoguchi.web.templatetags.inbox import status_label

#: The longest value of one input that is kept (longer is cut; the checks then say why).
MAX_INPUT = 1000


def field_labels() -> dict[str, str]:
    return {
        "from": _("From"),
        "to": _("To"),
        "cc": _("Cc"),
        "subject": _("Subject"),
        "body": _("Body"),
        "header": _("Header"),
        "kind": _("Kind of mail"),
        "attachment": _("Has attachments"),
        "hours": _("Arrived"),
        "customer": _("Customer"),
        "conversation": _("Conversation"),
    }


def op_labels() -> dict[str, str]:
    return {
        "contains": _("contains"),
        "not_contains": _("does not contain"),
        "equals": _("is exactly"),
        "starts_with": _("starts with"),
        "ends_with": _("ends with"),
        "regex": _("matches the regular expression"),
        "domain": _("domain is"),
        "is": _("is"),
        "is_not": _("is not"),
    }


def choice_labels() -> dict[str, dict[str, str]]:
    return {
        "kind": {
            "normal": _("a person's mail"),
            "auto_reply": _("an auto-reply"),
            "bulk": _("bulk or list mail"),
            "bounce": _("a delivery failure"),
        },
        "attachment": {"yes": _("yes"), "no": _("no")},
        "hours": {"inside": _("inside business hours"), "outside": _("outside business hours")},
        "customer": {"new": _("new (no earlier conversation)"), "known": _("known")},
        "conversation": {"new": _("new"), "reply": _("a reply")},
    }


def action_labels() -> dict[str, str]:
    return {
        "assign": _("Assign to an agent"),
        "assign_group": _("Assign to a group"),
        "status": _("Set the status"),
        "tag": _("Add a tag"),
        "untag": _("Remove a tag"),
        "spam": _("Mark as spam"),
        "reply": _("Reply with a template"),
        "notify": _("Notify"),
        "stop": _("Stop: no later rule for this mail"),
    }


def ops_for(name: str) -> tuple[str, ...]:
    """The ops a field takes (what the op menu offers for it)."""
    if name in rules.CHOICES:
        return rules.CHOICE_OPS
    if name in rules.ADDRESS_FIELDS:
        return rules.TEXT_OPS
    return tuple(op for op in rules.TEXT_OPS if op != "domain")


@dataclass
class Choices:
    """What the builder's menus offer in this mailbox, and the names the list shows."""

    agents: dict[int, str]
    groups: dict[int, str]
    templates: dict[int, str]

    @classmethod
    def load(cls, mailbox: Mailbox) -> Choices:
        usable = Template.objects.filter(Q(mailbox=None) | Q(mailbox=mailbox))
        return cls(
            agents={u.pk: u.agent.name for u in assignees([mailbox.pk])},
            groups=dict(Group.objects.values_list("pk", "name")),
            templates=dict(usable.order_by("name").values_list("pk", "name")),
        )


# Rows of the builder


@dataclass
class ConditionRow:
    field: str = "subject"
    op: str = "contains"
    value: str = ""
    header: str = ""
    choice: str = ""
    error: str = ""

    @classmethod
    def stored(cls, data: dict[str, Any]) -> ConditionRow:
        name = str(data.get("field", ""))
        value = str(data.get("value", ""))
        if name in rules.CHOICES:
            return cls(name, str(data.get("op", "")), choice=f"{name}:{value}")
        return cls(name, str(data.get("op", "")), value, str(data.get("header", "")))

    def as_data(self) -> dict[str, str]:
        if self.field in rules.CHOICES:
            kind, _sep, value = self.choice.partition(":")
            return {
                "field": self.field,
                "op": self.op,
                "value": value if kind == self.field else "",
            }
        data = {"field": self.field, "op": self.op, "value": self.value}
        if self.field == "header":
            data["header"] = self.header
        return data


@dataclass
class ActionRow:
    type: str = ""
    agent: str = ""
    who: str = ""
    group: str = ""
    strategy: str = Strategy.ROUND_ROBIN.value
    status: str = Status.HOLD.value
    tag: str = ""
    template: str = ""
    error: str = ""

    @classmethod
    def stored(cls, data: dict[str, Any]) -> ActionRow:
        kind = str(data.get("type", ""))
        row = cls(kind)
        if kind == "assign":
            row.agent = str(data.get("agent", ""))
        elif kind == "notify":
            row.who = str(data.get("agent", ""))
        elif kind == "assign_group":
            row.group = str(data.get("group") or "")
            row.strategy = str(data.get("strategy", ""))
        elif kind == "status":
            row.status = str(data.get("status", ""))
        elif kind in ("tag", "untag"):
            row.tag = str(data.get("tag", ""))
        elif kind == "reply":
            row.template = str(data.get("template", ""))
        return row

    def as_data(self) -> dict[str, Any]:
        table: dict[str, dict[str, Any]] = {
            "assign": {"agent": self.agent},
            "notify": {"agent": self.who},
            "assign_group": {"group": self.group or None, "strategy": self.strategy},
            "status": {"status": self.status},
            "tag": {"tag": self.tag},
            "untag": {"tag": self.tag},
            "reply": {"template": self.template},
        }
        params = table.get(self.type, {})
        return {"type": self.type, **params}


@dataclass
class RuleForm:
    """The builder as typed (or as stored), with its errors."""

    name: str = ""
    match: str = "all"
    enabled: bool = True
    conditions: list[ConditionRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def blank(cls) -> RuleForm:
        return cls(conditions=[ConditionRow()], actions=[ActionRow("assign")])

    @classmethod
    def of(cls, rule: Rule) -> RuleForm:
        return cls(
            name=rule.name,
            match=rule.match,
            enabled=rule.enabled,
            conditions=[ConditionRow.stored(c) for c in rule.conditions if isinstance(c, dict)],
            actions=[ActionRow.stored(a) for a in rule.actions if isinstance(a, dict)],
        )

    @classmethod
    def posted(cls, post: QueryDict) -> RuleForm:
        form = cls(
            name=_text(post.get("name")),
            match=_text(post.get("match")) or "all",
            enabled=post.get("enabled") == "on",
        )
        form.conditions = _rows(post, "c_", ConditionRow, rules.MAX_CONDITIONS, form.errors)
        form.actions = _rows(post, "a_", ActionRow, MAX_ACTIONS, form.errors)
        return form

    @property
    def invalid(self) -> bool:
        rows: list[ConditionRow | ActionRow] = [*self.conditions, *self.actions]
        return bool(self.errors or any(r.error for r in rows))

    def condition_data(self) -> list[dict[str, str]]:
        return [row.as_data() for row in self.conditions]

    def action_data(self) -> list[dict[str, Any]]:
        return [row.as_data() for row in self.actions if row.type]

    def check_conditions(self) -> bool:
        """Each condition row checked alone (its error beside it); all good or not."""
        if self.match not in ("all", "any"):
            self.errors.append(_("Match must be “all” or “any”."))
        for row in self.conditions:
            try:
                rules.compile_condition(row.as_data())
            except ValueError as exc:
                row.error = str(exc)
        return not self.invalid

    def check(self, mailbox: Mailbox) -> bool:
        """Every row checked alone, then the rule as a whole (``rule_admin.clean``)."""
        self.check_conditions()
        for row in self.actions:
            if row.type:
                try:
                    rule_admin.clean_action(mailbox, row.as_data())
                except ValueError as exc:
                    row.error = str(exc)
        if not self.invalid:
            try:
                rule_admin.clean(mailbox, self.data())
            except ValueError as exc:
                self.errors.append(str(exc))
        return not self.invalid

    def data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "match": self.match,
            "conditions": self.condition_data(),
            "actions": self.action_data(),
        }


def _text(value: object) -> str:
    return str(value or "").replace("\x00", "")[:MAX_INPUT]


def _rows(post: QueryDict, prefix: str, kind: Any, most: int, errors: list[str]) -> list[Any]:
    """The rows of one list: each column ``prefix + name``; rows past ``most`` are refused."""
    names = [f.name for f in fields(kind) if f.name != "error"]
    columns = {n: post.getlist(prefix + n) for n in names}
    count = max((len(v) for v in columns.values()), default=0)
    if count > most:
        errors.append(_("At most %(max)d rows.") % {"max": most})
        count = most
    return [
        kind(**{n: _text(col[i]) if i < len(col) else "" for n, col in columns.items()})
        for i in range(count)
    ]


# Pages


def _mailbox(request: AgentRequest, mailbox_id: int) -> Mailbox:
    require_reviewer(request.agent)
    return access_mailbox(request.agent, mailbox_id)


def _rule(mailbox: Mailbox, rule_id: int) -> Rule:
    rule = Rule.objects.filter(mailbox=mailbox, pk=rule_id).first()
    if rule is None:
        raise Http404("no such rule")
    return rule


@agent_required
def rule_list(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    choices = Choices.load(mailbox)
    rows = [
        {"rule": r, "when": describe_conditions(r), "then": describe_actions(r, choices)}
        for r in Rule.objects.filter(mailbox=mailbox).order_by("position", "id")
    ]
    return render(request, "rules/list.html", {"mailbox": mailbox, "rows": rows})


@agent_required
def rule_new(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    return _edit(request, _mailbox(request, mailbox_id), None)


@agent_required
def rule_edit(request: AgentRequest, mailbox_id: int, rule_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    return _edit(request, mailbox, _rule(mailbox, rule_id))


def _edit(request: AgentRequest, mailbox: Mailbox, rule: Rule | None) -> HttpResponse:
    if request.method != "POST":
        form = RuleForm.of(rule) if rule else RuleForm.blank()
        return _builder(request, mailbox, rule, form)
    form = RuleForm.posted(request.POST)
    if "add" in request.POST or "remove" in request.POST:
        _add_or_remove(form, request.POST)
        return _builder(request, mailbox, rule, form)
    if "tryout" in request.POST:
        return _tryout(request, mailbox, rule, form)
    if form.check(mailbox):
        try:
            saved = _save(form, mailbox, rule, actor_id=request.agent.user_id)
        except ValueError as exc:
            form.errors.append(str(exc))
        else:
            messages.success(request, _("Saved the rule “%(name)s”.") % {"name": saved.name})
            return redirect("rules", mailbox_id=mailbox.pk)
    return _builder(request, mailbox, rule, form, status=400)


def _add_or_remove(form: RuleForm, post: QueryDict) -> None:
    """The builder without the script: one row more, or one fewer."""
    add, remove = post.get("add", ""), post.get("remove", "")
    if add == "condition" and len(form.conditions) < rules.MAX_CONDITIONS:
        form.conditions.append(ConditionRow())
    elif add == "action" and len(form.actions) < MAX_ACTIONS:
        form.actions.append(ActionRow())
    kind, _sep, index = remove.partition("-")
    rows: list[Any] = form.conditions if kind == "condition" else form.actions
    at = int(index) if index.isascii() and index.isdigit() and len(index) < 4 else -1
    if kind in ("condition", "action") and 0 <= at < len(rows):
        del rows[at]


def _save(form: RuleForm, mailbox: Mailbox, rule: Rule | None, *, actor_id: int) -> Rule:
    if rule is None:
        return rule_admin.create_rule(mailbox, form.data(), actor_id=actor_id,
                                      enabled=form.enabled)  # fmt: skip
    saved = rule_admin.update_rule(rule, form.data(), actor_id=actor_id)
    rule_admin.set_enabled(saved, form.enabled, actor_id=actor_id)
    return saved


def _tryout(
    request: AgentRequest, mailbox: Mailbox, rule: Rule | None, form: RuleForm
) -> HttpResponse:
    result = None
    if form.check_conditions():
        try:
            result = tryout.try_rule(mailbox, form.match, form.condition_data())
        except ValueError as exc:
            form.errors.append(str(exc))
    if request.headers.get("X-Fragment") == "tryout":
        return render(request, "rules/_tryout.html", {"result": result, "form": form},
                      status=200 if result else 400)  # fmt: skip
    return _builder(request, mailbox, rule, form, result=result, status=200 if result else 400)


def _builder(
    request: HttpRequest,
    mailbox: Mailbox,
    rule: Rule | None,
    form: RuleForm,
    *,
    result: tryout.Tryout | None = None,
    status: int = 200,
) -> HttpResponse:
    choices = Choices.load(mailbox)
    labels, names = choice_labels(), field_labels()
    return render(request, "rules/edit.html", {
        "mailbox": mailbox, "rule": rule, "form": form, "result": result, "choices": choices,
        "fields": [(k, v, " ".join(ops_for(k))) for k, v in names.items()],
        "ops": list(op_labels().items()),
        "choice_options": [(f, f"{f}:{v}", f"{names[f]}: {label}") for f, opts in labels.items()
                           for v, label in opts.items()],
        "actions": [(k, action_labels()[k]) for k in ACTION_TYPES],
        "strategies": [(v, label) for v, label in Strategy.choices if v != Strategy.OFF],
        "statuses": [(s, status_label(s)) for s in Status.values],
        "blank_condition": ConditionRow(), "blank_action": ActionRow(),
        "max_conditions": rules.MAX_CONDITIONS, "max_actions": MAX_ACTIONS,
        "days": tryout.DAYS, "scan_limit": tryout.SCAN_LIMIT,
    }, status=status)  # fmt: skip


@agent_required
@require_POST
def rule_move(request: AgentRequest, mailbox_id: int, rule_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    rule = _rule(mailbox, rule_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("step", ""))
    if step is not None:
        rule_admin.move(rule, step, actor_id=request.agent.user_id)
    return _back_to_list(mailbox, rule)


@agent_required
@require_POST
def rule_enable(request: AgentRequest, mailbox_id: int, rule_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    rule = _rule(mailbox, rule_id)
    enabled = request.POST.get("enabled") == "1"
    rule_admin.set_enabled(rule, enabled, actor_id=request.agent.user_id)
    return _back_to_list(mailbox, rule)


@agent_required
@require_POST
def rule_copy(request: AgentRequest, mailbox_id: int, rule_id: int) -> HttpResponse:
    mailbox = _mailbox(request, mailbox_id)
    copy = rule_admin.copy_rule(_rule(mailbox, rule_id), actor_id=request.agent.user_id)
    messages.success(request, _("Copied: “%(name)s” (off until you switch it on).")
                     % {"name": copy.name})  # fmt: skip
    return _back_to_list(mailbox, copy)


@agent_required
def rule_delete(request: AgentRequest, mailbox_id: int, rule_id: int) -> HttpResponse:
    """Asks first (GET: the question; POST: deleted)."""
    mailbox = _mailbox(request, mailbox_id)
    rule = _rule(mailbox, rule_id)
    if request.method != "POST":
        return render(request, "rules/delete.html", {"mailbox": mailbox, "rule": rule})
    rule_admin.delete_rule(rule, actor_id=request.agent.user_id)
    messages.success(request, _("Deleted the rule “%(name)s”.") % {"name": rule.name})
    return redirect("rules", mailbox_id=mailbox.pk)


def _back_to_list(mailbox: Mailbox, rule: Rule) -> HttpResponse:
    response = redirect("rules", mailbox_id=mailbox.pk)
    response["Location"] += f"#rule-{rule.pk}"
    return response


# What a rule says, in words


def describe_conditions(rule: Rule) -> list[str]:
    names, ops, choices = field_labels(), op_labels(), choice_labels()
    out = []
    for c in rule.conditions:
        if not isinstance(c, dict):
            continue
        name, op, value = str(c.get("field")), str(c.get("op")), str(c.get("value"))
        label = names.get(name, name)
        if name == "header":
            label = _("Header %(name)s") % {"name": c.get("header", "")}
        if name in choices:
            shown = choices[name].get(value, value)
            out.append(_("%(field)s %(op)s %(value)s") % {"field": label,
                       "op": ops.get(op, op), "value": shown})  # fmt: skip
        else:
            out.append(_("%(field)s %(op)s “%(value)s”") % {"field": label,
                       "op": ops.get(op, op), "value": value})  # fmt: skip
    return out


def describe_actions(rule: Rule, choices: Choices) -> list[str]:
    return [
        _ACTION_WORDS.get(str(a.get("type")), _action_label)(a, choices)
        for a in rule.actions
        if isinstance(a, dict)
    ]


def _named(names: dict[int, str], value: object, default: str = "?") -> str:
    return names.get(value, default) if isinstance(value, int) else default


def _action_label(a: dict[str, Any], c: Choices) -> str:
    kind = str(a.get("type"))
    return action_labels().get(kind, kind)


def _group_words(a: dict[str, Any], c: Choices) -> str:
    strategy = str(a.get("strategy"))
    return _("Assign to the group %(group)s (%(strategy)s)") % {
        "group": _named(c.groups, a.get("group"), _("of the mailbox")),
        "strategy": dict(Strategy.choices).get(strategy, strategy),
    }


def _notify_words(a: dict[str, Any], c: Choices) -> str:
    if a.get("agent") == "assignee":
        return _("Notify the assignee")
    return _("Notify %(name)s") % {"name": _named(c.agents, a.get("agent"))}


_ACTION_WORDS: dict[str, Callable[[dict[str, Any], Choices], str]] = {
    "assign": lambda a, c: _("Assign to %(name)s") % {"name": _named(c.agents, a.get("agent"))},
    "assign_group": _group_words,
    "status": lambda a, c: (
        _("Set the status to %(status)s") % {"status": status_label(str(a.get("status")))}
    ),
    "tag": lambda a, c: _("Add the tag %(tag)s") % {"tag": a.get("tag")},
    "untag": lambda a, c: _("Remove the tag %(tag)s") % {"tag": a.get("tag")},
    "reply": lambda a, c: (
        _("Reply with the template %(template)s")
        % {"template": _named(c.templates, a.get("template"))}
    ),
    "notify": _notify_words,
}
