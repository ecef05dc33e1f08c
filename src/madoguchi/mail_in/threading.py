"""Which conversation an inbound mail belongs to: an ordered tuple of small lookups.

Order (docs/mail/threading.md): our own signed Message-ID token, In-Reply-To, References,
a ticket tag such as ``[#123]`` in the subject from the same customer or organization,
a reply to it that arrived first, otherwise a new conversation. Subjects alone never join
mail of different customers.

The rules read a ``ThreadIndex``: what they need to know about a batch of mails, loaded in
a few queries and kept up to date as each mail of the batch is placed, so that a batch of
200 imported mails costs the same handful of lookups as one delivered mail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from madoguchi.conversations.contacts import organization_for
from madoguchi.conversations.models import Conversation, Message, MessageRef, ThreadRule
from madoguchi.mail import ParsedMail
from madoguchi.mail.tokens import read_token
from madoguchi.mailboxes.models import Mailbox

_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
ID_SIZE = 512

#: An existing conversation (its id) or one this batch is about to create (unsaved).
ConvRef = int | Conversation


def named_ids(mail: ParsedMail) -> list[str]:
    """Message-IDs the mail points at, nearest first, clipped to the stored size."""
    ids = [mail.in_reply_to or "", *reversed(mail.references), mail.bounce_message_id or ""]
    return [i[:ID_SIZE] for i in dict.fromkeys(ids) if i]


@dataclass
class ThreadIndex:
    mailbox: Mailbox
    key: bytes
    #: Message-ID → conversation, for ids named by the batch and mail placed so far.
    by_message_id: dict[str, ConvRef] = field(default_factory=dict)
    #: Message-ID → conversations started by replies to it that arrived before it.
    early: dict[str, list[ConvRef]] = field(default_factory=lambda: defaultdict(list))
    _exists: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, mailbox: Mailbox, key: bytes, mails: Sequence[ParsedMail]) -> ThreadIndex:
        index = cls(mailbox, key)
        named = {i for mail in mails for i in named_ids(mail)}
        own = {mail.message_id[:ID_SIZE] for mail in mails if mail.message_id}
        if named:
            index.by_message_id.update(
                Message.objects.filter(mailbox=mailbox, message_id__in=named).values_list(
                    "message_id", "conversation_id"
                )
            )
        if own:
            rows = MessageRef.objects.filter(
                mailbox=mailbox, ref__in=own, message__thread_rule=ThreadRule.NEW
            ).values_list("ref", "message__conversation_id")
            for ref, conv in rows:
                if conv not in index.early[ref]:
                    index.early[ref].append(conv)
        return index

    def conversation_exists(self, pk: int) -> bool:
        if pk not in self._exists:
            self._exists[pk] = Conversation.objects.filter(pk=pk, mailbox=self.mailbox).exists()
        return self._exists[pk]

    def replace(self, old: ConvRef, new: ConvRef) -> None:
        """``old`` (a conversation of this batch) was merged into ``new``."""
        for mid, conv in self.by_message_id.items():
            if conv is old:
                self.by_message_id[mid] = new
        for convs in self.early.values():
            convs[:] = [new if c is old else c for c in convs]

    def placed(self, mail: ParsedMail, target: ConvRef, rule: ThreadRule) -> None:
        """Record where ``mail`` went, for the mails after it in the batch."""
        if mail.message_id:
            self.by_message_id[mail.message_id[:ID_SIZE]] = target
        if rule == ThreadRule.NEW:
            for ref in named_ids(mail):
                self.early[ref].append(target)


Rule = Callable[[ParsedMail, ThreadIndex], ConvRef | None]


def by_own_token(mail: ParsedMail, index: ThreadIndex) -> ConvRef | None:
    for mid in named_ids(mail):
        token = read_token(index.key, mid)
        if token is not None and index.conversation_exists(token.conversation_id):
            return token.conversation_id
    return None


def by_in_reply_to(mail: ParsedMail, index: ThreadIndex) -> ConvRef | None:
    for mid in (mail.in_reply_to, mail.bounce_message_id):
        if mid and (conv := index.by_message_id.get(mid[:ID_SIZE])) is not None:
            return conv
    return None


def by_references(mail: ParsedMail, index: ThreadIndex) -> ConvRef | None:
    for mid in reversed(mail.references):
        if (conv := index.by_message_id.get(mid[:ID_SIZE])) is not None:
            return conv
    return None


def by_subject_tag(mail: ParsedMail, index: ThreadIndex) -> ConvRef | None:
    match = _SUBJECT_TAG.search(mail.subject)
    if not match or mail.sender is None:
        return None
    conv = (
        Conversation.objects.select_related("contact")
        .filter(pk=int(match[1]), mailbox=index.mailbox)
        .first()
    )
    if conv is None or conv.contact is None:
        return None
    sender = mail.sender.email.lower()
    if conv.contact.addresses.filter(email=sender).exists():
        return conv.pk
    org = organization_for(sender)
    return conv.pk if org and org == conv.contact.organization else None


RULES: tuple[tuple[ThreadRule, Rule], ...] = (
    (ThreadRule.TOKEN, by_own_token),
    (ThreadRule.IN_REPLY_TO, by_in_reply_to),
    (ThreadRule.REFERENCES, by_references),
    (ThreadRule.SUBJECT_TAG, by_subject_tag),
)


@dataclass
class Placement:
    target: ConvRef | None  # None: start a new conversation
    rule: ThreadRule
    #: Conversations started by early replies to this mail, to merge into ``target``.
    orphans: list[ConvRef] = field(default_factory=list)


def place(mail: ParsedMail, index: ThreadIndex) -> Placement:
    orphans = list(index.early.get(mail.message_id[:ID_SIZE], [])) if mail.message_id else []
    for rule, lookup in RULES:
        conv = lookup(mail, index)
        if conv is not None:
            return Placement(conv, rule, [o for o in orphans if o != conv])
    if orphans:
        return Placement(orphans[0], ThreadRule.LATE_PARENT, orphans[1:])
    return Placement(None, ThreadRule.NEW)
