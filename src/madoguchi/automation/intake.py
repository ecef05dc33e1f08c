"""What automation does when mail arrives, in the intake transaction, once per batch.

``observers`` calls ``on_received`` with the ``message.received`` events of one ingest
batch. The batch is loaded once (``Arrival``: the conversation, the message, whether the
conversation is new) and each step takes the whole batch, in this order:

1. ``rules.apply_rules`` — the mailbox's rules, in order (a rule may assign, tag, set a
   status, reply with a template, notify, or stop the rules after it);
2. ``assignment.assign_new`` — the mailbox's assignment policy, for new conversations
   still without an assignee;
3. ``sla.set_targets`` — the first-response and resolution targets (tags set by rules
   count);
4. ``auto_reply.acknowledge`` — the acknowledgement (受付自動返信) to new conversations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from madoguchi.conversations.models import Conversation, Message
from madoguchi.conversations.queries import UNLISTED
from madoguchi.core.models import Event


@dataclass
class Arrival:
    """One new inbound mail of the batch and where it landed."""

    event: Event
    message: Message
    conversation: Conversation
    #: The mail started the conversation (it did not exist before this batch).
    new_conversation: bool
    #: Set by a rule's "stop" action: no later rule runs for this mail.
    stopped: bool = False
    #: Short words of what automation did (the rule's timeline line, tests).
    did: list[str] = field(default_factory=list)


def load(items: list[Event]) -> list[Arrival]:
    """The batch's arrivals, oldest first, in two queries. A conversation is new for the
    first mail of the batch in it, unless it existed before (``reply`` in the event)."""
    # Not what no rule reads: the HTML, the parse defects, nor the mailbox's secrets (each
    # one decrypted per row).
    messages = Message.objects.defer("html", "defects").in_bulk([e.data["message"] for e in items])
    conversations = (
        Conversation.objects.select_related("mailbox", "contact")
        .defer(*UNLISTED)
        .in_bulk({m.conversation_id for m in messages.values()})
    )
    arrivals, seen = [], set()
    for event in items:
        message = messages.get(event.data["message"])
        if message is None or message.conversation_id not in conversations:
            continue
        new = not event.data.get("reply") and message.conversation_id not in seen
        seen.add(message.conversation_id)
        arrivals.append(Arrival(event, message, conversations[message.conversation_id], new))
    return arrivals


def on_received(items: list[Event]) -> None:
    from madoguchi.automation import assignment, auto_reply, rules, sla

    arrivals = load(items)
    if not arrivals:
        return
    rules.apply_rules(arrivals)
    assignment.assign_new(arrivals)
    sla.set_targets(arrivals)
    auto_reply.acknowledge(arrivals)
