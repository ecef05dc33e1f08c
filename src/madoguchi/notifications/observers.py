"""Who hears of what: notifications made by observing events, not by being called.

``conversations`` and ``mail_out`` sit below ``notifications`` and never import it; they
record events, and ``NotificationsConfig.ready`` registers the observers here with
``core.events.observe``. Each runs in the transaction that wrote its events, right after
them, so a notification exists exactly when what it tells of was committed. One observer per
``notifies`` type (``core.event_types``), plus one that moves notifications along when
threading merges conversations.
"""

from __future__ import annotations

from django.db.models import Q

from madoguchi.accounts.models import Agent, Role
from madoguchi.conversations.models import Conversation, Message, Note
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.mail_out.approval import reviewers_of
from madoguchi.notifications.actions import Tell, notify, notify_each
from madoguchi.notifications.mentions import mentioned
from madoguchi.notifications.models import Kind, Notification

_MENTION_MARKS = ("@", "＠")


def assigned(items: list[Event]) -> None:
    """The new assignee is told, unless they took it themselves: one insert for a batch of
    assignments by the same actor (automation's, say)."""
    by_actor: dict[int | None, list[Tell]] = {}
    for event in items:
        assert event.conversation_id is not None and event.mailbox_id is not None
        tell = Tell(event.data["after"], event.conversation_id, event.mailbox_id)
        by_actor.setdefault(event.actor_id, []).append(tell)
    for actor_id, tells in by_actor.items():
        notify_each(tells, Kind.ASSIGNED, actor_id=actor_id)


def customer_replied(items: list[Event]) -> None:
    """The assignee of each conversation a customer wrote to again is told, once per
    conversation of an ingest batch: one query for the conversations, one insert."""
    about = {e.conversation_id: e for e in items if e.data.get("reply")}
    if not about:
        return
    owners = Conversation.objects.filter(pk__in=list(about), assignee__isnull=False)
    tells = [
        Tell(assignee, pk, mailbox)
        for pk, assignee, mailbox in owners.values_list("pk", "assignee_id", "mailbox_id")
    ]
    notify_each(tells, Kind.CUSTOMER_REPLIED, actor_id=None)


def mentioned_in_note(items: list[Event]) -> None:
    """Agents a note names (``@sato``, ``@佐藤花子``) who may see its mailbox are told."""
    texts = dict(
        Note.objects.filter(pk__in=[e.data["note"] for e in items]).values_list("pk", "text")
    )
    for event in items:
        text = texts.get(event.data["note"], "")
        if any(mark in text for mark in _MENTION_MARKS):
            assert event.mailbox_id is not None
            notify(mentioned(text, mentionable(event.mailbox_id)), Kind.MENTIONED, about=event)


def mentionable(mailbox_id: int) -> list[tuple[int, list[str]]]:
    """Who a note in ``mailbox_id`` can mention: its active members and the admins, each
    with their user name and display name."""
    agents = Agent.objects.filter(
        Q(user__memberships__mailbox_id=mailbox_id) | Q(role=Role.ADMIN),
        user__is_active=True,
    ).select_related("user")
    return [(a.user_id, [a.user.username, a.name]) for a in agents.distinct()]


def approval_requested(items: list[Event]) -> None:
    """The reviewers of the mailbox are asked to look at a held reply."""
    for event in items:
        assert event.mailbox_id is not None
        notify(reviewers_of(event.mailbox_id), Kind.APPROVAL_ASKED, about=event)


_REVIEWED = {
    EventType.APPROVAL_APPROVED.value: Kind.APPROVED,
    EventType.APPROVAL_RETURNED.value: Kind.RETURNED,
}


def reviewed(items: list[Event]) -> None:
    """The author of a held reply hears that it was approved, or sent back."""
    authors = dict(
        Message.objects.filter(pk__in=[e.data["message"] for e in items]).values_list(
            "pk", "author_id"
        )
    )
    for event in items:
        notify([authors.get(event.data["message"])], _REVIEWED[event.type], about=event)


def sla_breached(items: list[Event]) -> None:
    """A conversation missed its first-response or resolution target: the mailbox's
    managers are told (its members who are managers, and every admin)."""
    managers: dict[int, list[int]] = {}
    for event in items:
        assert event.mailbox_id is not None
        if event.mailbox_id not in managers:
            managers[event.mailbox_id] = reviewers_of(event.mailbox_id)
        notify(managers[event.mailbox_id], Kind.SLA_BREACHED, about=event)


def follow_up_due(items: list[Event]) -> None:
    """ "Remind me if no answer": the time came and the customer said nothing; the agent
    who asked is told."""
    for event in items:
        notify([event.data["to"]], Kind.FOLLOW_UP, about=event)


def woken(items: list[Event]) -> None:
    """A snooze ended by time: the conversation's assignee is told it is back (a customer's
    mail that woke it already told them: "your customer replied")."""
    timed = {e.conversation_id: e for e in items if e.data["reason"] == "time"}
    owners = Conversation.objects.filter(pk__in=list(timed), assignee__isnull=False)
    for pk, assignee in owners.values_list("pk", "assignee_id"):
        notify([assignee], Kind.WOKEN, about=timed[pk])


def follow_merge(items: list[Event]) -> None:
    """Notifications of a conversation merged into another now point at that one (before
    the merged conversation, and with it they, would be deleted)."""
    for event in items:
        Notification.objects.filter(conversation_id=event.data["merged"]).update(
            conversation_id=event.conversation_id
        )


def register() -> None:
    """Observe the events (``NotificationsConfig.ready``; registering twice is harmless)."""
    events.observe([EventType.CONVERSATION_ASSIGNED], assigned)
    events.observe([EventType.MESSAGE_RECEIVED], customer_replied)
    events.observe([EventType.NOTE_ADDED], mentioned_in_note)
    events.observe([EventType.APPROVAL_REQUESTED], approval_requested)
    events.observe([EventType.APPROVAL_APPROVED, EventType.APPROVAL_RETURNED], reviewed)
    events.observe([EventType.SLA_BREACHED], sla_breached)
    events.observe([EventType.FOLLOW_UP_DUE], follow_up_due)
    events.observe([EventType.CONVERSATION_WOKEN], woken)
    events.observe([EventType.CONVERSATION_MERGED], follow_merge)
