"""Keeps the search index current, in the transaction of each change (``core.events``
observers): new mail is searchable as soon as its batch commits.

- ``message.received`` (a whole ingest batch at once), ``message.queued`` and
  ``approval.requested`` (our replies, sent or waiting for approval):
  an entry per message — subject; sender name and address; recipients; the text (quoted
  parts too) and the attachment names; ``approval.approved`` with an edit: written again;
- ``note.added``: an entry per note;
- ``conversation.tagged`` / ``untagged``: the conversation's tags entry written again;
- ``conversation.merged``: the source's entries move to the target (before the source and
  whatever still points at it are deleted).

Deleting a message, a note or a conversation deletes its entries (foreign keys). ``rebuild``
indexes what is stored (``madoguchi reindex``), in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol, cast

from django.db import connection, transaction

from madoguchi.conversations.models import Attachment, Conversation, Message, Note
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.search import terms
from madoguchi.search.models import Entry, EntryKind
from madoguchi.search.text import tokens

#: Messages (or notes) loaded and written at once by ``rebuild``.
BATCH = 500


def _addresses(items: object) -> str:
    """Names and addresses of a stored address list (``[{"name":…, "email":…}]`` or
    ``[[name, email]]``)."""
    out: list[str] = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                out += [str(item.get("name") or ""), str(item.get("email") or "")]
            elif isinstance(item, list | tuple):
                out += [str(part) for part in item]
            else:
                out.append(str(item))
    return " ".join(p for p in out if p)


#: What an entry reads of a message.
_READ = ("conversation_id", "mailbox_id", "received_at", "subject", "from_name", "from_email",
         "to", "cc", "text")  # fmt: skip


class _Stored(Protocol):
    """What an entry reads of a message: a ``Message`` or a row of ``_READ``."""

    pk: int
    conversation_id: int
    mailbox_id: int
    received_at: datetime
    subject: str
    from_name: str
    from_email: str
    to: object
    cc: object
    text: str


def _stored(ids: list[int]) -> list[_Stored]:
    """The messages' fields an entry reads, as rows (no model instances: the hot path)."""
    rows = Message.objects.filter(pk__in=ids).values_list("pk", *_READ, named=True)
    return cast(list[_Stored], list(rows))


class EntryRow(NamedTuple):
    """An entry to write: ``Entry``'s columns as a plain row. Intake writes one per message,
    and a model instance cost more to make (~20 µs) than its tokens for a short mail."""

    conversation_id: int
    mailbox_id: int
    message_id: int | None
    note_id: int | None
    kind: str
    at: datetime
    subject: str
    sender: str
    recipients: str
    body: str


def message_entries(messages: Sequence[_Stored]) -> list[EntryRow]:
    """The entries for ``messages`` (one query for their attachment names)."""
    names: dict[int, list[str]] = {}
    files = Attachment.objects.filter(message__in=[m.pk for m in messages], inline=False)
    for message_id, filename in files.values_list("message_id", "filename"):
        names.setdefault(message_id, []).append(filename)
    kind = EntryKind.MESSAGE.value
    return [
        EntryRow(
            m.conversation_id,
            m.mailbox_id,
            m.pk,
            None,
            kind,
            m.received_at,
            tokens(m.subject),
            tokens(f"{m.from_name} {m.from_email}"),
            tokens(f"{_addresses(m.to)} {_addresses(m.cc)}"),
            tokens("\n".join([m.text, *names.get(m.pk, [])])),
        )
        for m in messages
    ]


def note_entries(notes: list[Note]) -> list[EntryRow]:
    kind = EntryKind.NOTE.value
    return [
        EntryRow(n.conversation_id, n.conversation.mailbox_id, None, n.pk, kind, n.created_at,
                 "", "", "", tokens(n.text))
        for n in notes
    ]  # fmt: skip


_AT = EntryRow._fields.index("at")
_PLACES = ", ".join(["%s"] * len(EntryRow._fields))
_INSERT = f"INSERT INTO search_entry ({', '.join(EntryRow._fields)}) VALUES ({_PLACES})"


def _write(entries: list[EntryRow], *, ignore_conflicts: bool = False) -> None:
    """Write the entries (one prepared statement for all: ``bulk_create`` spent more time
    preparing each field of each row than the database spent indexing it) and remember
    their words (``search.terms``)."""
    if not entries:
        return
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(*e[:_AT], adapt(e.at), *e[_AT + 1 :]) for e in entries]  # time as the db keeps it
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""), rows)
    terms.remember(entries)


def index_messages(ids: Iterable[int]) -> None:
    """Index these messages (again: an entry already there is replaced)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    Entry.objects.filter(message_id__in=wanted).delete()
    _write(message_entries(_stored(wanted)))


def index_notes(ids: Iterable[int]) -> None:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    Entry.objects.filter(note_id__in=wanted).delete()
    notes = Note.objects.filter(pk__in=wanted).select_related("conversation")
    _write(note_entries(list(notes)))


def index_tags(conversation_ids: Iterable[int]) -> None:
    """Write the tags entries of these conversations again (none for a conversation
    without tags)."""
    wanted = list(dict.fromkeys(conversation_ids))
    if not wanted:
        return
    Entry.objects.filter(conversation_id__in=wanted, kind=EntryKind.TAGS).delete()
    names: dict[int, list[str]] = {}
    through = Conversation.tags.through.objects.filter(conversation_id__in=wanted)
    for conv_id, name in through.values_list("conversation_id", "tag__name"):
        names.setdefault(conv_id, []).append(name)
    convs = Conversation.objects.filter(pk__in=list(names)).values_list(
        "pk", "mailbox_id", "created_at"
    )
    kind = EntryKind.TAGS.value
    _write([
        EntryRow(pk, box, None, None, kind, at, "", "", "", tokens(" ".join(names[pk])))
        for pk, box, at in convs
    ])  # fmt: skip


def _messages(items: list[Event]) -> None:
    """New messages have no entry yet: written, nothing deleted first (intake's hot path);
    one that has (indexed already) keeps it."""
    ids = list(dict.fromkeys(e.data["message"] for e in items))
    entries = message_entries(_stored(ids))
    _write(entries, ignore_conflicts=True)


def _edited(items: list[Event]) -> None:
    """A reviewer edited a reply while approving it: its text changed."""
    index_messages(e.data["message"] for e in items if e.data.get("edited"))


def _notes(items: list[Event]) -> None:
    index_notes(e.data["note"] for e in items)


def _tags(items: list[Event]) -> None:
    index_tags(e.conversation_id for e in items if e.conversation_id is not None)


def _merged(items: list[Event]) -> None:
    for event in items:
        source, target = event.data["merged"], event.conversation_id
        assert target is not None
        Entry.objects.filter(conversation_id=source, kind=EntryKind.TAGS).delete()
        mailbox = Conversation.objects.filter(pk=target).values_list("mailbox_id", flat=True)
        Entry.objects.filter(conversation_id=source).update(
            conversation_id=target, mailbox_id=mailbox[:1]
        )
    index_tags(e.conversation_id for e in items if e.conversation_id is not None)


def register() -> None:
    events.observe(
        [EventType.MESSAGE_RECEIVED, EventType.MESSAGE_QUEUED, EventType.APPROVAL_REQUESTED],
        _messages,
    )
    events.observe([EventType.APPROVAL_APPROVED], _edited)
    events.observe([EventType.NOTE_ADDED], _notes)
    events.observe([EventType.CONVERSATION_TAGGED, EventType.CONVERSATION_UNTAGGED], _tags)
    events.observe([EventType.CONVERSATION_MERGED], _merged)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def rebuild(*, progress: object = None) -> int:
    """Index everything stored again (``madoguchi reindex``); how many entries it wrote.
    Each batch is its own transaction: mail keeps arriving meanwhile."""
    written = 0
    message_ids = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(message_ids):
        with transaction.atomic():
            index_messages(chunk)
        written += len(chunk)
    note_ids = list(Note.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(note_ids):
        with transaction.atomic():
            index_notes(chunk)
        written += len(chunk)
    tagged = Conversation.tags.through.objects.values_list("conversation_id", flat=True)
    conv_ids = sorted(set(tagged))
    for chunk in _chunks(conv_ids):
        with transaction.atomic():
            index_tags(chunk)
        written += len(chunk)
    return written
