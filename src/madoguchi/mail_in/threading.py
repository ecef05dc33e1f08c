"""Which conversation an inbound mail belongs to: an ordered tuple of small lookups.

Order (docs/mail/threading.md): our own signed Message-ID token, In-Reply-To, References,
a ticket tag such as ``[#123]`` in the subject from the same customer or organization,
otherwise a new conversation. Subjects alone never join mail of different customers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from madoguchi.conversations.contacts import organization_for
from madoguchi.conversations.models import Conversation, Message, MessageRef, ThreadRule
from madoguchi.mail import ParsedMail
from madoguchi.mail.tokens import read_token
from madoguchi.mailboxes.models import Mailbox

_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")


@dataclass
class Placement:
    conversation: Conversation | None
    rule: ThreadRule
    #: Conversations started by replies to this mail that arrived before it.
    orphans: list[int] = field(default_factory=list)


Rule = Callable[[ParsedMail, Mailbox], Conversation | None]


def _named_ids(mail: ParsedMail) -> list[str]:
    """Message-IDs the mail points at, nearest first."""
    ids = [mail.in_reply_to or "", *reversed(mail.references), mail.bounce_message_id or ""]
    return [i for i in dict.fromkeys(ids) if i]


def by_own_token(mail: ParsedMail, mailbox: Mailbox) -> Conversation | None:
    key = settings.SECRET_KEY.encode()
    for mid in _named_ids(mail):
        token = read_token(key, mid)
        if token is not None:
            conv = Conversation.objects.filter(pk=token.conversation_id, mailbox=mailbox).first()
            if conv is not None:
                return conv
    return None


def _conversation_of(mailbox: Mailbox, ids: list[str]) -> Conversation | None:
    if not ids:
        return None
    rows = dict(
        Message.objects.filter(mailbox=mailbox, message_id__in=[i[:512] for i in ids]).values_list(
            "message_id", "conversation_id"
        )
    )
    for mid in ids:
        if mid[:512] in rows:
            return Conversation.objects.get(pk=rows[mid[:512]])
    return None


def by_in_reply_to(mail: ParsedMail, mailbox: Mailbox) -> Conversation | None:
    ids = [i for i in (mail.in_reply_to, mail.bounce_message_id) if i]
    return _conversation_of(mailbox, ids)


def by_references(mail: ParsedMail, mailbox: Mailbox) -> Conversation | None:
    return _conversation_of(mailbox, list(reversed(mail.references)))


def by_subject_tag(mail: ParsedMail, mailbox: Mailbox) -> Conversation | None:
    match = _SUBJECT_TAG.search(mail.subject)
    if not match or mail.sender is None:
        return None
    conv = (
        Conversation.objects.select_related("contact")
        .filter(pk=int(match[1]), mailbox=mailbox)
        .first()
    )
    if conv is None or conv.contact is None:
        return None
    sender = mail.sender.email.lower()
    if conv.contact.addresses.filter(email=sender).exists():
        return conv
    org = organization_for(sender)
    return conv if org and org == conv.contact.organization else None


RULES: tuple[tuple[ThreadRule, Rule], ...] = (
    (ThreadRule.TOKEN, by_own_token),
    (ThreadRule.IN_REPLY_TO, by_in_reply_to),
    (ThreadRule.REFERENCES, by_references),
    (ThreadRule.SUBJECT_TAG, by_subject_tag),
)


def early_replies(mail: ParsedMail, mailbox: Mailbox) -> list[int]:
    """Conversations that were started by replies to ``mail`` before it arrived."""
    if not mail.message_id:
        return []
    return list(
        MessageRef.objects.filter(
            mailbox=mailbox,
            ref=mail.message_id[:512],
            message__thread_rule=ThreadRule.NEW,
        )
        .values_list("message__conversation_id", flat=True)
        .distinct()
    )


def place(mail: ParsedMail, mailbox: Mailbox) -> Placement:
    orphans = early_replies(mail, mailbox)
    for rule, lookup in RULES:
        conv = lookup(mail, mailbox)
        if conv is not None:
            return Placement(conv, rule, [o for o in orphans if o != conv.pk])
    if orphans:
        first = Conversation.objects.get(pk=orphans[0])
        return Placement(first, ThreadRule.LATE_PARENT, orphans[1:])
    return Placement(None, ThreadRule.NEW)
