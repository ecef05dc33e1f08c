"""Who takes part in a conversation, and which inbound mail comes from someone new.

Threading joins mail by the ids it names (In-Reply-To, References), and those ids travel:
a forwarded mail shows them to whoever receives it. So a mail from a sender who was not
yet in the conversation still joins it (a colleague the customer adds in Cc must), but it
is marked ``Message.new_participant``: the timeline says so, and a reply's default
recipient stays the conversation's established customer (``queries.reply_source``). An
agent who writes to the newcomer makes them a participant.

Participants are: the conversation's contact, the mailbox itself, and every address of the
mails that are not from a newcomer — From, Reply-To, To and Cc of inbound mail, To and Cc
of our replies. A newcomer's own To and Cc establish nobody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from madoguchi.conversations.models import ContactAddress, Conversation, Direction, Message
from madoguchi.mail import ParsedMail

#: Established messages read per conversation (the newest); older ones rarely add anyone.
READ_AT_MOST = 1000


def _emails(pairs: Iterable[object]) -> set[str]:
    """Lowercased addresses of stored ``[[name, email], …]`` lists."""
    found = set()
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[1], str):
            found.add(pair[1].strip().lower())
    return found


def known_addresses(conversation_ids: Iterable[int]) -> dict[int, set[str]]:
    """The participants of each stored conversation, in three queries."""
    ids = list(dict.fromkeys(conversation_ids))
    known: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return known
    convs = Conversation.objects.filter(pk__in=ids).values_list(
        "pk", "contact_id", "mailbox__address"
    )
    by_contact: dict[int, list[int]] = defaultdict(list)
    for pk, contact_id, mailbox_address in convs:
        known[pk].add(mailbox_address.lower())
        if contact_id is not None:
            by_contact[contact_id].append(pk)
    for contact_id, email in ContactAddress.objects.filter(
        contact_id__in=list(by_contact)
    ).values_list("contact_id", "email"):
        for pk in by_contact[contact_id]:
            known[pk].add(email.lower())
    rows = (
        Message.objects.filter(conversation_id__in=ids, new_participant=False)
        .order_by("-pk")
        .values_list("conversation_id", "direction", "from_email", "reply_to", "to", "cc")
    )
    for conv_id, direction, sender, reply_to, to, cc in rows[: READ_AT_MOST * len(ids)]:
        addresses = _emails(to) | _emails(cc)
        if direction == Direction.IN:
            addresses |= _emails(reply_to) | {sender.lower()}
        known[conv_id] |= addresses
    return known


def answer_addresses(mail: ParsedMail) -> set[str]:
    """Where a reply to ``mail`` would go: its Reply-To, else its From (lowercased)."""
    chosen = mail.reply_to or ([mail.sender] if mail.sender else [])
    return {a.email.strip().lower() for a in chosen if a.email}


def mail_addresses(mail: ParsedMail) -> set[str]:
    """Every address a participant's mail brings into the conversation."""
    people = [*mail.to, *mail.cc, *mail.reply_to, *([mail.sender] if mail.sender else [])]
    return {a.email.strip().lower() for a in people if a.email}


def is_newcomer(mail: ParsedMail, known: set[str]) -> bool:
    """Whether a reply to ``mail`` would go to someone not yet in the conversation."""
    wanted = answer_addresses(mail)
    return bool(wanted) and not wanted <= known
