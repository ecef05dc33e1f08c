"""Which conversation an inbound mail belongs to: an ordered tuple of small lookups.

Order (docs/mail/threading.md): our own signed Message-ID token, In-Reply-To, References,
a ticket tag such as ``[#123]`` in the subject from the same customer or organization,
a reply to it that arrived first, otherwise a new conversation. Subjects alone never join
mail of different customers.

Mails that name each other (In-Reply-To, References) end in one conversation whatever order
they arrive in: the rules pick the conversation a mail joins, and every other conversation
it is linked to (the one of another mail it names, or one started by a reply to it that
arrived first) is merged into that one.

The rules read a ``ThreadIndex``: what they need to know about a batch of mails, loaded in
a few queries and kept up to date as each mail of the batch is placed, so that a batch of
200 imported mails costs the same handful of lookups as one delivered mail.

Threading decides where a mail goes, not whom a reply answers: Message-IDs travel (a
forwarded mail shows them), so a mail from a sender new to the conversation still joins it
but is marked a new participant and never picks a reply's recipients
(``conversations.participants``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from madoguchi.conversations.actions import MAX_REFS
from madoguchi.conversations.contacts import organization_for
from madoguchi.conversations.models import Conversation, Message, MessageRef, ThreadRule
from madoguchi.mail import ParsedMail
from madoguchi.mail.tokens import read_token
from madoguchi.mailboxes.models import Mailbox

_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
ID_SIZE = 512

#: An existing conversation (its id) or one this batch is about to create (unsaved).
ConvRef = int | Conversation

#: Rules of a mail that found no conversation through the ids it names.
UNANCHORED = (ThreadRule.NEW, ThreadRule.LATE_PARENT)


def references(mail: ParsedMail) -> list[str]:
    """The References entries threading reads: the newest ``MAX_REFS``, as ``MessageRef`` keeps.

    Reading no more than is stored keeps both directions of a link alike: a mail that names
    an old entry is found by it whichever of the two arrives first.
    """
    return mail.references[-MAX_REFS:]


def named_ids(mail: ParsedMail) -> list[str]:
    """Message-IDs the mail points at, nearest first, clipped to the stored size."""
    ids = [mail.in_reply_to or "", *reversed(references(mail)), mail.bounce_message_id or ""]
    return [i[:ID_SIZE] for i in dict.fromkeys(ids) if i]


def stored_ids(mail: ParsedMail) -> list[str]:
    """The ids ``MessageRef`` keeps for the mail: In-Reply-To and the References read."""
    ids = [mail.in_reply_to or "", *references(mail)]
    return [i[:ID_SIZE] for i in dict.fromkeys(ids) if i]


def conv_key(conv: ConvRef) -> tuple[bool, int]:
    """A hashable identity: the id of a stored conversation, the object of a new one."""
    return (True, conv) if isinstance(conv, int) else (False, id(conv))


def distinct(convs: Iterable[ConvRef]) -> list[ConvRef]:
    """``convs`` without repeats, in their order."""
    seen: dict[tuple[bool, int], ConvRef] = {}
    for conv in convs:
        seen.setdefault(conv_key(conv), conv)
    return list(seen.values())


@dataclass
class ThreadIndex:
    """What placing a batch needs to know, loaded once and updated as each mail is placed."""

    mailbox: Mailbox
    key: bytes
    #: Message-ID → conversation, for ids named by the batch and mail placed so far.
    by_message_id: dict[str, ConvRef] = field(default_factory=dict)
    #: Message-ID → conversations of the mails that name it (stored, or placed so far), as
    #: ``MessageRef`` has them: a batch finds what a later batch would find.
    early: dict[str, list[ConvRef]] = field(default_factory=lambda: defaultdict(list))
    #: Conversations merged in this batch → the conversation they went into.
    _merged: dict[tuple[bool, int], ConvRef] = field(default_factory=dict)
    _exists: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, mailbox: Mailbox, key: bytes, mails: Sequence[ParsedMail]) -> ThreadIndex:
        """The index for a batch, in two queries whatever its size."""
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
            rows = (
                MessageRef.objects.filter(mailbox=mailbox, ref__in=own)
                .values_list("ref", "message__conversation_id")
                .distinct()
            )
            for ref, conv in rows:
                index.early[ref].append(conv)
        return index

    def conversation_exists(self, pk: int) -> bool:
        if pk not in self._exists:
            self._exists[pk] = Conversation.objects.filter(pk=pk, mailbox=self.mailbox).exists()
        return self._exists[pk]

    def resolve(self, conv: ConvRef) -> ConvRef:
        """The conversation ``conv`` stands for now, after the merges of this batch."""
        while (key := conv_key(conv)) in self._merged:
            conv = self._merged[key]
        return conv

    def merge(self, old: ConvRef, new: ConvRef) -> None:
        """``old`` is merged into ``new``: from now on it resolves to ``new``."""
        old, new = self.resolve(old), self.resolve(new)
        if conv_key(old) != conv_key(new):
            self._merged[conv_key(old)] = new

    def linked(self, mail: ParsedMail) -> list[ConvRef]:
        """Conversations of the mails ``mail`` names, then of the mails that name it."""
        named = [self.by_message_id.get(mid) for mid in named_ids(mail)]
        naming = self.early.get(mail.message_id[:ID_SIZE], []) if mail.message_id else []
        return distinct(self.resolve(c) for c in [*named, *naming] if c is not None)

    def placed(self, mail: ParsedMail, target: ConvRef) -> None:
        """Record where ``mail`` went, for the mails after it in the batch."""
        if mail.message_id:
            self.by_message_id[mail.message_id[:ID_SIZE]] = target
        for ref in stored_ids(mail):
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
    for mid in reversed(references(mail)):
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
    #: Other conversations the mail links (named by it, or started by early replies to it),
    #: to merge into ``target``.
    merged: list[ConvRef] = field(default_factory=list)


def place(mail: ParsedMail, index: ThreadIndex) -> Placement:
    """Where ``mail`` goes (the first rule that finds a conversation) and what merges into it."""
    linked = index.linked(mail)
    for rule, lookup in RULES:
        conv = lookup(mail, index)
        if conv is not None:
            target = index.resolve(conv)
            return Placement(target, rule, [c for c in linked if conv_key(c) != conv_key(target)])
    if linked:
        return Placement(linked[0], ThreadRule.LATE_PARENT, linked[1:])
    return Placement(None, ThreadRule.NEW)


def rehang(mail: ParsedMail, parent_id: str, rule: ThreadRule) -> ThreadRule:
    """The rule of a mail whose conversation was merged because ``parent_id`` arrived.

    A mail that had found no conversation through the ids it names (``UNANCHORED``) and names
    the new mail now hangs on it; every other mail keeps the rule it was placed by.
    """
    if rule not in UNANCHORED or not parent_id:
        return rule
    if mail.in_reply_to and mail.in_reply_to[:ID_SIZE] == parent_id:
        return ThreadRule.IN_REPLY_TO
    if parent_id in {r[:ID_SIZE] for r in references(mail)}:
        return ThreadRule.REFERENCES
    return rule
