"""What kind of mail an inbound message is, with what only intake knows.

The mail core classifies by the mail's own structure (``mail.classify``). Intake adds two
facts the bytes do not carry: the envelope sender our SMTP/LMTP listener saw
(``MAIL FROM:<>`` is a null reverse path, RFC 5321 section 4.5.5) and the mailbox's list of
senders that are always people (docs/mail/classification.md).

``plan_reclassify`` applies today's rules to stored mail; ``madoguchi mail reclassify`` and
the migration that shipped the structural rules run it, and
``conversations.actions.apply_kinds`` writes the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from madoguchi.conversations.actions import KindChange, apply_kinds
from madoguchi.conversations.models import Conversation, Message
from madoguchi.mail import ParsedMail, classify, parse
from madoguchi.mail_in.models import RawMessage
from madoguchi.mailboxes.models import Mailbox

_LISTENERS = ("smtp", "lmtp")
CHUNK = 200


def judge(mailbox: Mailbox, raw: RawMessage, parsed: ParsedMail) -> ParsedMail:
    """``parsed`` with the envelope and the mailbox's person list taken into account."""
    return judge_with(
        parsed,
        source=raw.source,
        envelope_from=raw.envelope_from,
        people=mailbox.person_sender_list,
    )


def judge_with(
    parsed: ParsedMail, *, source: str, envelope_from: str, people: list[str]
) -> ParsedMail:
    """:func:`judge` from plain values."""
    null = source in _LISTENERS and envelope_from.strip().strip("<>") == ""
    parsed = classify.with_envelope(parsed, null_envelope=null)
    if people and parsed.sender and classify.is_listed(parsed.sender.email, people):
        return classify.as_person(parsed)
    return parsed


def plan_reclassify(
    messages: QuerySet[Any], people_of: dict[int, list[str]]
) -> Iterator[KindChange]:
    """Re-read each stored inbound message of ``messages`` that is not normal.

    ``messages`` may be a migration's historical ``Message`` queryset. ``people_of`` maps a
    mailbox id to its person list. Reads in chunks of ``CHUNK``.
    """
    query = messages.filter(direction="in", raw__isnull=False).exclude(kind="normal")
    last = 0
    while True:
        rows = list(
            query.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "conversation_id",
                "mailbox_id",
                "kind",
                "raw__data",
                "raw__source",
                "raw__envelope_from",
            )[:CHUNK]
        )
        if not rows:
            return
        for pk, conv, mailbox, kind, data, source, envelope in rows:
            found = judge_with(
                parse(bytes(data)),
                source=source,
                envelope_from=envelope,
                people=people_of.get(mailbox, []),
            )
            if found.kind != kind:
                yield KindChange(
                    pk, conv, kind, found.kind, found.kind_reason, found.kind_hint or ""
                )
        last = rows[-1][0]


def reclassify(
    mailbox: Mailbox | None = None, *, dry_run: bool = False
) -> tuple[list[KindChange], list[Conversation]]:
    """Apply today's rules to the stored mail of ``mailbox`` (all mailboxes when None).

    Returns the messages whose kind changed and the conversations moved back to new mail.
    With ``dry_run`` nothing is stored (the changes are made and rolled back).
    """
    mailboxes = [mailbox] if mailbox is not None else list(Mailbox.objects.all())
    people = {m.pk: m.person_sender_list for m in mailboxes}
    messages = Message.objects.filter(mailbox_id__in=list(people))
    changes = list(plan_reclassify(messages, people))
    with transaction.atomic():
        moved = apply_kinds(changes)
        if dry_run:
            transaction.set_rollback(True)
    return changes, moved
