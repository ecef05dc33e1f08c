"""Every kind of Event, declared once: its name, its payload and what it means to readers.

An action records an event by its ``EventType`` (``events.record(EventType.NOTE_ADDED, ...)``);
``events.build`` refuses a payload with a field the type does not declare or without one it
requires, so a renamed field fails in the first test that records it, not silently in a
reader. The readers take their lists from here, never from string literals of their own:

- ``live.hub`` recomputes who may see what after an event whose type ``changes_access``;
- the conversation timeline leaves out ``quiet`` types and renders the others with the
  template ``conversations/events/<value>.html`` (one per type; a test renders every one);
- ``notifications`` observes the types that ``notify`` (in the same transaction);
- ``personal`` events are meant for one agent (``data["to"]``), not for the whole mailbox;
- ``live.js`` reads ``for_script()`` (in every signed-in page): which types change no count
  (``uncounted``), which make a tab fetch its whole page (``reloads``), which are personal.

The value of each member is what the ``Event.type`` column stores: renaming a value needs a
data migration; renaming a member does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any


class EventType(StrEnum):
    # conversations
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_STARTED = "conversation.started"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_STATUS = "conversation.status"
    CONVERSATION_KIND = "conversation.kind"
    CONVERSATION_MERGED = "conversation.merged"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_TAGGED = "conversation.tagged"
    CONVERSATION_UNTAGGED = "conversation.untagged"
    MESSAGE_RECEIVED = "message.received"
    NOTE_ADDED = "note.added"
    CONVERSATION_SNOOZED = "conversation.snoozed"
    CONVERSATION_WOKEN = "conversation.woken"
    FOLLOW_UP_SET = "follow_up.set"
    FOLLOW_UP_DUE = "follow_up.due"
    SLA_BREACHED = "sla.breached"
    # automation
    RULE_APPLIED = "rule.applied"
    RULE_SAVED = "rule.saved"
    RULE_DELETED = "rule.deleted"
    GROUP_SAVED = "group.saved"
    GROUP_DELETED = "group.deleted"
    AUTOMATION_SETTINGS = "automation.settings"
    AUTO_REPLY_SKIPPED = "auto_reply.skipped"
    TEMPLATE_SAVED = "template.saved"
    TEMPLATE_DELETED = "template.deleted"
    TEMPLATE_USED = "template.used"
    # the outbox
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_SENT = "message.sent"
    MESSAGE_CANCELLED = "message.cancelled"
    MESSAGE_RETRYING = "message.retrying"
    MESSAGE_FAILED = "message.failed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_APPROVED = "approval.approved"
    APPROVAL_RETURNED = "approval.returned"
    # customers
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMERS_IMPORTED = "customers.imported"
    CUSTOMER_FIELD_SAVED = "customer_field.saved"
    CUSTOMER_FIELD_DELETED = "customer_field.deleted"
    ORGANIZATION_UPDATED = "organization.updated"
    CUSTOMER_PANEL_SAVED = "customer_panel.saved"
    # intake
    INGEST_FAILED = "ingest.failed"
    # mailboxes
    MAILBOX_CREATED = "mailbox.created"
    MAILBOX_UPDATED = "mailbox.updated"
    MAILBOX_PERSON_SENDER_ADDED = "mailbox.person_sender_added"
    MAILBOX_MEMBER_ADDED = "mailbox.member_added"
    MAILBOX_MEMBER_REMOVED = "mailbox.member_removed"
    MAILBOX_APPROVAL_CHANGED = "mailbox.approval_changed"
    # agents
    AGENT_CREATED = "agent.created"
    AGENT_INVITED = "agent.invited"
    AGENT_INVITATION_REVOKED = "agent.invitation_revoked"
    AGENT_JOINED = "agent.joined"
    AGENT_ROLE = "agent.role"
    AGENT_ACTIVE = "agent.active"
    AGENT_PREFERENCES = "agent.preferences"
    AGENT_PASSWORD_CHANGED = "agent.password_changed"
    AGENT_PASSWORD_LINK = "agent.password_link"
    AGENT_PASSWORD_MAIL = "agent.password_mail"
    AGENT_AVAILABILITY = "agent.availability"
    # notifications and sessions
    NOTIFICATION_CREATED = "notification.created"
    NOTIFICATION_ADDRESS_ASKED = "notification.address_asked"
    NOTIFICATION_ADDRESS_CONFIRMED = "notification.address_confirmed"
    SESSION_ENDED = "session.ended"


@dataclass(frozen=True, slots=True)
class Spec:
    """What one event type carries and how readers treat it."""

    #: Payload fields every event of this type has.
    required: frozenset[str] = frozenset()
    #: Payload fields it may have.
    optional: frozenset[str] = frozenset()
    #: It changes who may see which mailbox: the hub recomputes access.
    changes_access: bool = False
    #: Not an entry of the conversation timeline (the thing itself is shown, or nothing).
    quiet: bool = False
    #: ``notifications`` observes it and tells the agents concerned.
    notifies: bool = False
    #: Meant for one agent (``data["to"]``), not for everyone who sees the mailbox.
    personal: bool = False
    #: Belongs to one conversation (``conversation_id`` is set).
    in_conversation: bool = False
    #: Changes no count a page shows (rail, tabs, bell, approvals): tabs skip ``/f/counts``.
    uncounted: bool = False
    #: Changes names shown all over a page: tabs fetch the whole page again.
    reloads: bool = False

    def check(self, type: EventType, data: Mapping[str, Any]) -> None:
        keys = data.keys()
        if missing := self.required - keys:
            raise TypeError(f"{type.value} event without {', '.join(sorted(missing))}")
        if unknown := keys - self.required - self.optional:
            raise TypeError(f"{type.value} event with undeclared {', '.join(sorted(unknown))}")


def _spec(required: Iterable[str] = (), optional: Iterable[str] = (), **flags: bool) -> Spec:
    return Spec(frozenset(required), frozenset(optional), **flags)


def _conv(required: Iterable[str] = (), optional: Iterable[str] = (), **flags: bool) -> Spec:
    return _spec(required, optional, in_conversation=True, **flags)


_T = EventType
SPECS: dict[EventType, Spec] = {
    _T.CONVERSATION_CREATED: _conv(quiet=True),
    _T.CONVERSATION_STARTED: _conv(),
    # "rule": the name of the rule that did it; "group"/"strategy": how it was chosen.
    _T.CONVERSATION_ASSIGNED: _conv(
        ["before", "after"], ["after_name", "reason", "rule", "group", "strategy"], notifies=True
    ),
    _T.CONVERSATION_STATUS: _conv(["before", "after"], ["reason", "rule"]),
    _T.CONVERSATION_KIND: _conv(["before", "after", "reason"], ["always"]),
    _T.CONVERSATION_MERGED: _conv(["merged"], ["messages", "via"]),
    _T.CONVERSATION_READ: _conv(quiet=True, uncounted=True),
    _T.CONVERSATION_TAGGED: _conv(["tag"], ["rule"], uncounted=True),
    _T.CONVERSATION_UNTAGGED: _conv(["tag"], ["rule"], uncounted=True),
    _T.MESSAGE_RECEIVED: _conv(["message"], ["rule", "kind", "reply"], quiet=True, notifies=True),
    _T.NOTE_ADDED: _conv(["note"], quiet=True, notifies=True, uncounted=True),
    # "auto": an acknowledgement or a rule's reply, not a person's.
    _T.MESSAGE_QUEUED: _conv(["message"], ["auto", "rule"]),
    _T.MESSAGE_SENT: _conv(["message"], ["kept_locally", "auto"], uncounted=True),
    _T.MESSAGE_CANCELLED: _conv(["message"]),
    _T.MESSAGE_RETRYING: _conv(["message", "error"], ["reason", "attempt"], uncounted=True),
    _T.MESSAGE_FAILED: _conv(["message", "error"], ["reason"], uncounted=True),
    _T.APPROVAL_REQUESTED: _conv(["message"], notifies=True),
    _T.APPROVAL_APPROVED: _conv(["message"], ["edited"], notifies=True),
    _T.APPROVAL_RETURNED: _conv(["message", "note"], notifies=True),
    # "back_to": "new" or "owner"; "reason" of a wake-up: "time", "customer", "manual".
    _T.CONVERSATION_SNOOZED: _conv(["until"], ["back_to"]),
    _T.CONVERSATION_WOKEN: _conv(["reason"], ["late"], notifies=True),
    _T.FOLLOW_UP_SET: _conv(["at"], ["message", "to"], uncounted=True),
    _T.FOLLOW_UP_DUE: _conv(["to"], ["at"], notifies=True),
    # "target": "first_response" or "resolution"; "due": ISO time it was due.
    _T.SLA_BREACHED: _conv(["target", "due"], notifies=True),
    # A rule matched a new mail: "rule" id and "name"; "did": short words of each action.
    _T.RULE_APPLIED: _conv(["rule", "name"], ["did", "message"], quiet=True, uncounted=True),
    _T.RULE_SAVED: _spec(["rule", "name"], ["change"], uncounted=True),
    _T.RULE_DELETED: _spec(["rule", "name"], uncounted=True),
    _T.GROUP_SAVED: _spec(["group", "name"], ["change"], uncounted=True),
    _T.GROUP_DELETED: _spec(["group", "name"], uncounted=True),
    # "what": "assignment", "auto_reply", "sla", "hours", "days_off".
    _T.AUTOMATION_SETTINGS: _spec(["what"], ["change"], uncounted=True),
    _T.AUTO_REPLY_SKIPPED: _conv(["reason"], uncounted=True),
    _T.TEMPLATE_SAVED: _spec(["template", "name"], ["change"], uncounted=True),
    _T.TEMPLATE_DELETED: _spec(["template", "name"], uncounted=True),
    _T.TEMPLATE_USED: _conv(["template", "name"], quiet=True, uncounted=True),
    # "customer": the contact's id; "fields": the names of what changed.
    _T.CUSTOMER_UPDATED: _spec(["customer", "fields"], uncounted=True),
    _T.CUSTOMER_MERGED: _spec(["customer", "merged", "merge"], ["conversations"], uncounted=True),
    _T.CUSTOMER_UNMERGED: _spec(
        ["customer", "merged", "merge"], ["conversations"], uncounted=True
    ),  # fmt: skip
    _T.CUSTOMERS_IMPORTED: _spec(["created", "updated", "rejected"], uncounted=True),
    _T.CUSTOMER_FIELD_SAVED: _spec(["field", "label"], ["change"], uncounted=True),
    _T.CUSTOMER_FIELD_DELETED: _spec(["field", "label"], uncounted=True),
    _T.ORGANIZATION_UPDATED: _spec(["organization", "key"], uncounted=True),
    # "secret": whether the source's header value changed (never the value).
    _T.CUSTOMER_PANEL_SAVED: _spec(["links", "source"], ["secret"], uncounted=True),
    _T.INGEST_FAILED: _spec(["raw", "error"]),
    _T.MAILBOX_CREATED: _spec(["address"], changes_access=True),
    _T.MAILBOX_UPDATED: _spec(["fields"], reloads=True),
    _T.MAILBOX_PERSON_SENDER_ADDED: _spec(["entry"]),
    _T.MAILBOX_MEMBER_ADDED: _spec(["user"], changes_access=True),
    _T.MAILBOX_MEMBER_REMOVED: _spec(["user"], changes_access=True),
    _T.MAILBOX_APPROVAL_CHANGED: _spec(["user", "needs_approval"]),
    _T.AGENT_CREATED: _spec(["agent", "role"], changes_access=True),
    _T.AGENT_INVITED: _spec(["invitation", "role"]),
    _T.AGENT_INVITATION_REVOKED: _spec(["invitation"]),
    _T.AGENT_JOINED: _spec(["invitation"], changes_access=True),
    _T.AGENT_ROLE: _spec(["agent", "before", "after"], changes_access=True),
    _T.AGENT_ACTIVE: _spec(["agent", "active"], changes_access=True),
    _T.AGENT_PREFERENCES: _spec(["language", "time_zone"]),
    _T.AGENT_PASSWORD_CHANGED: _spec(["agent", "how"]),
    _T.AGENT_PASSWORD_LINK: _spec(["agent"]),
    _T.AGENT_PASSWORD_MAIL: _spec(["agent"]),
    # "reason": "self", "manager", or "hours" (working hours began or ended).
    _T.AGENT_AVAILABILITY: _spec(["agent", "available"], ["reason"], uncounted=True),
    _T.NOTIFICATION_CREATED: _conv(["to", "kind", "notification"], quiet=True, personal=True),
    _T.NOTIFICATION_ADDRESS_ASKED: _spec(["address"]),
    _T.NOTIFICATION_ADDRESS_CONFIRMED: _spec(),
    _T.SESSION_ENDED: _spec(["session"]),
}


def spec(type: EventType | str) -> Spec:
    """The declaration of ``type`` (``ValueError`` for a type nobody declared)."""
    return SPECS[EventType(type)]


def types_where(flag: str) -> frozenset[str]:
    """The stored values of every type with ``flag`` set (for ``type__in`` and JSON)."""
    return frozenset(t.value for t, s in SPECS.items() if getattr(s, flag))


#: Types after which the hub recomputes who may see which mailbox.
ACCESS_CHANGING = types_where("changes_access")
#: Types left out of the conversation timeline.
QUIET = types_where("quiet")
#: Types ``notifications`` observes.
NOTIFYING = types_where("notifies")
#: Types meant for one agent (``data["to"]``).
PERSONAL = types_where("personal")


@cache
def for_script() -> dict[str, list[str]]:
    """What ``live.js`` needs to know of the types, as JSON-ready lists."""
    return {
        "uncounted": sorted(types_where("uncounted")),
        "reloads": sorted(types_where("reloads")),
        "personal": sorted(PERSONAL),
        "merged": [EventType.CONVERSATION_MERGED.value],
    }
