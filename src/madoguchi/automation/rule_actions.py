"""What a matching rule does (``rules.apply_rules`` calls ``apply`` per mail and rule).

The actions, in the order the rule lists them (``rule_admin.clean_actions`` checks them):

- ``{"type": "assign", "agent": user id}`` — to an agent who may be assigned in the
  mailbox (``mailboxes.queries.assignable``, checked again now);
- ``{"type": "assign_group", "group": group id or None, "strategy": ...}`` — to a member
  of the group (None: of the mailbox) chosen by the strategy (``assignment.assign_by``);
- ``{"type": "status", "status": ...}``, ``{"type": "spam"}``;
- ``{"type": "tag", "tag": name}``, ``{"type": "untag", "tag": name}``;
- ``{"type": "reply", "template": template id}`` (``auto_reply.reply_with_template``);
- ``{"type": "notify", "agent": user id or "assignee"}`` (a ``rule`` notification);
- ``{"type": "stop"}`` — no later rule runs for this mail.

A rule never takes a conversation from someone who has it: the assign actions leave an
assigned conversation as it is. Each action's own event names the rule (``rule=<name>``),
so the timeline reads "ルール「請求書」により佐藤さんに割り当て"; the rule itself is recorded
as ``rule.applied`` (quiet) with what it did. A rule whose action fails is rolled back on
its own and logged: the mail is still taken in.

Assign, status, spam, tag and untag are gathered for the whole batch in a
``conversations.changes.Changes`` and written together at the end (``Batch.finish``): the
conversation object changes at once, so later rules see it. A rule with an action that
writes at once (assign to a group, reply, notify) first writes what was gathered, then runs
in a savepoint of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from madoguchi.automation import assignment, auto_reply
from madoguchi.conversations.changes import Changes, tag_key
from madoguchi.conversations.models import Conversation, Status
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mailboxes.queries import assignable
from madoguchi.notifications.actions import notify
from madoguchi.notifications.models import Kind

if TYPE_CHECKING:
    from madoguchi.automation.intake import Arrival
    from madoguchi.automation.models import Rule

log = logging.getLogger(__name__)

ACTION_TYPES = ("assign", "assign_group", "status", "tag", "untag", "spam", "reply", "notify",
                "stop")  # fmt: skip
#: Actions that write at once (the others are gathered in ``Batch.changes``).
AT_ONCE = frozenset({"assign_group", "reply", "notify"})
MAX_ACTIONS = 10

Action = Mapping[str, Any]


@dataclass
class Batch:
    """What the rules of one ingest batch share: the ``rule.applied`` events still to
    write (one insert at the end, ``finish``), who may be assigned where, and the tags the
    batch's conversations carry (one query at the first tag action: a tag a conversation
    has already, as for most replies, costs nothing)."""

    conversation_ids: list[int] = field(default_factory=list)
    applied: list[Event] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    _assignable: dict[tuple[int, int], bool] = field(default_factory=dict)
    _tags: dict[int, set[str]] | None = None

    def may_assign(self, conv: Conversation, user_id: object) -> bool:
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return False
        key = (conv.mailbox_id, user_id)
        if key not in self._assignable:
            self._assignable[key] = assignable(conv.mailbox, user_id)
        return self._assignable[key]

    def tags(self, conv: Conversation) -> set[str]:
        """The names (``tag_key``) of the tags ``conv`` has; the caller keeps it current."""
        if self._tags is None:
            self._tags = {}
            through = Conversation.tags.through.objects.filter(
                conversation_id__in=self.conversation_ids
            )
            for conv_id, name in through.values_list("conversation_id", "tag__name"):
                self._tags.setdefault(conv_id, set()).add(tag_key(name))
        return self._tags.setdefault(conv.pk, set())

    def finish(self) -> None:
        self.changes.save()
        events.record_many(self.applied)
        self.applied = []


def apply(rule: Rule, arrival: Arrival, batch: Batch) -> list[str]:
    """Do ``rule``'s actions on the arrival's conversation; what it did, in short words
    (also added to ``arrival.did`` as "<rule name>: <word>")."""
    conv = arrival.conversation
    at_once = any(a.get("type") in AT_ONCE for a in rule.actions)
    if at_once:  # outside this rule's savepoint: a failure here keeps earlier rules' work
        batch.changes.save()
    mark, tags = batch.changes.mark(), set(batch.tags(conv))
    try:
        # Only a rule that writes needs a savepoint; the others are undone in memory.
        with transaction.atomic() if at_once else nullcontext():
            did, applied = _run(rule, arrival, batch)
            if at_once:
                batch.changes.save()
    except Exception:
        log.exception("rule %s (%s) failed on message %s", rule.pk, rule.name, arrival.message.pk)
        batch.changes.undo(mark)
        has = batch.tags(conv)
        has.clear()
        has.update(tags)
        if at_once:  # nothing else was pending: the database has the truth
            conv.refresh_from_db()
        did = ["failed"]
    else:
        if applied.pk is None:
            batch.applied.append(applied)
    arrival.did += [f"{rule.name}: {word}" for word in did]
    return did


def _run(rule: Rule, arrival: Arrival, batch: Batch) -> tuple[list[str], Event]:
    conv, did, later = arrival.conversation, [], []
    for action in rule.actions:
        kind = action.get("type")
        if kind in AT_ONCE:
            batch.changes.save()
        if kind == "notify":
            later.append(action)
        elif kind == "stop":
            arrival.stopped = True
            did.append("stop")
        elif (run := _ACTIONS.get(str(kind))) is not None:
            did.append(run(conv, action, rule.name, batch))
    applied = events.build(
        EventType.RULE_APPLIED,
        mailbox_id=conv.mailbox_id,
        conversation_id=conv.pk,
        rule=rule.pk,
        name=rule.name,
        did=did + [f"notify:{a.get('agent')}" for a in later],
        message=arrival.message.pk,
    )
    if later:  # a notification names the event it is about: that one is written now
        batch.changes.save()
        events.record_many([applied])
        did += [_notify(conv, action, applied, batch) for action in later]
    return did, applied


def _assign(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    agent = action.get("agent")
    if conv.assignee_id is not None:
        return "assign:kept"
    if not isinstance(agent, int) or not batch.may_assign(conv, agent):
        return "assign:skipped"
    batch.changes.assign(conv, agent, actor_id=None, rule=rule)
    return f"assign:{agent}"


def _assign_group(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    if conv.assignee_id is not None:
        return "assign_group:kept"
    given = assignment.assign_by(
        conv, group_id=action.get("group"), strategy=str(action.get("strategy")), rule=rule
    )
    return f"assign_group:{given}" if given is not None else "assign_group:none"


def _status(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    status = Status(action["status"])
    batch.changes.status(conv, status, actor_id=None, rule=rule)
    return f"status:{status.value}"


def _spam(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    batch.changes.status(conv, Status.SPAM, actor_id=None, rule=rule)
    return "spam"


def _tag(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    name, has = str(action["tag"]).strip(), batch.tags(conv)
    if tag_key(name) in has:
        return "tag:kept"
    batch.changes.tag(conv, name, actor_id=None, rule=rule)
    has.add(tag_key(name))
    return f"tag:{name}"


def _untag(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    name, has = str(action["tag"]).strip(), batch.tags(conv)
    if tag_key(name) not in has:
        return "untag:none"
    batch.changes.untag(conv, name, actor_id=None, rule=rule)
    has.discard(tag_key(name))
    return f"untag:{name}"


def _reply(conv: Conversation, action: Action, rule: str, batch: Batch) -> str:
    template = action.get("template")
    if not isinstance(template, int):
        return "reply:skipped"
    sent = auto_reply.reply_with_template(conv, template, rule=rule)
    return f"reply:{template}" if sent else "reply:skipped"


def _notify(conv: Conversation, action: Action, about: Event, batch: Batch) -> str:
    who = action.get("agent")
    user_id = conv.assignee_id if who == "assignee" else who
    if not isinstance(user_id, int) or not batch.may_assign(conv, user_id):
        return "notify:skipped"
    notify([user_id], Kind.RULE, about=about)
    return f"notify:{user_id}"


_ACTIONS: dict[str, Callable[[Conversation, Action, str, Batch], str]] = {
    "assign": _assign,
    "assign_group": _assign_group,
    "status": _status,
    "spam": _spam,
    "tag": _tag,
    "untag": _untag,
    "reply": _reply,
}
