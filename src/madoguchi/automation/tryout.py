"""Try a rule before saving it: which of the mailbox's recent mail would it have matched?

``try_rule`` runs the rule's conditions (not its actions, and as if it were the only rule)
over the inbound mail of the last ``DAYS`` days, newest first, with the same matching as
intake (``rules.Facts``, in chunks). At most ``SCAN_LIMIT`` mails are looked at; the answer
says when there were more. "Would have matched 37 conversations", with the newest of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Min
from django.utils import timezone

from madoguchi.automation import rules
from madoguchi.conversations.models import Conversation, Direction, Message
from madoguchi.mailboxes.models import Mailbox

DAYS = 30
#: The most mails one try looks at.
SCAN_LIMIT = 5000
#: Mails matched together (their headers are read at once).
CHUNK = 200
#: The most conversations the answer lists.
LIST_LIMIT = 50


@dataclass
class Tryout:
    """What a rule would have matched."""

    #: Conversations with a matching mail, the newest first (at most ``LIST_LIMIT``).
    conversations: list[Conversation] = field(default_factory=list)
    #: How many conversations had a matching mail, and how many mails matched.
    count: int = 0
    messages: int = 0
    #: Mails looked at; ``capped``: there were more than ``SCAN_LIMIT`` in those days.
    scanned: int = 0
    capped: bool = False
    #: Mails on which a regex ran out of time (counted as no match).
    timed_out: int = 0
    days: int = DAYS

    @property
    def more(self) -> int:
        """Matched conversations not listed."""
        return self.count - len(self.conversations)


def try_rule(
    mailbox: Mailbox,
    match: str,
    conditions: Sequence[Mapping[str, Any]],
    *,
    days: int = DAYS,
    limit: int = SCAN_LIMIT,
) -> Tryout:
    """The rule's conditions over the mailbox's recent inbound mail; ``ValueError`` for a
    bad condition (as when saving)."""
    matcher = rules.compile_rule(match, conditions)
    since = timezone.now() - timedelta(days=days)
    query = (
        Message.objects.filter(mailbox=mailbox, direction=Direction.IN, received_at__gte=since)
        .select_related("conversation__contact")
        .defer("html", "reply_text", "defects", *(() if _reads_body(matcher) else ("text",)))
        .order_by("-received_at", "-id")
    )
    found = list(query[: limit + 1])
    result = Tryout(days=days, capped=len(found) > limit)
    found = found[:limit]
    result.scanned = len(found)
    matched: dict[int, Conversation] = {}
    guard = rules.Guard()
    for start in range(0, len(found), CHUNK):
        chunk = found[start : start + CHUNK]
        facts = rules.Facts(_mails(mailbox, chunk, matcher), guard)
        for mail in facts.mails:
            if matcher.matches(facts, mail):
                result.messages += 1
                matched.setdefault(mail.conversation.pk, mail.conversation)
    result.timed_out = guard.timed_out
    result.count = len(matched)
    result.conversations = list(matched.values())[:LIST_LIMIT]
    return result


def _reads_body(matcher: rules.Matcher) -> bool:
    return any(c.field == "body" for c in matcher.conditions)


def _mails(mailbox: Mailbox, messages: list[Message], matcher: rules.Matcher) -> list[rules.Mail]:
    """The chunk as conditions see it; whether each mail started its conversation is
    looked up (one query) only when a condition asks."""
    first: dict[int, int] = {}
    if any(c.field == "conversation" for c in matcher.conditions):
        first = dict(
            Message.objects.filter(
                conversation_id__in={m.conversation_id for m in messages}, direction=Direction.IN
            )
            .values("conversation_id")
            .annotate(first=Min("id"))
            .values_list("conversation_id", "first")
        )
    mails = []
    for m in messages:
        m.conversation.mailbox = mailbox
        mails.append(rules.Mail(m, m.conversation, first.get(m.conversation_id) == m.pk))
    return mails
