"""Intake: store raw mail durably (``accept``), then turn it into a message (``ingest``).

``accept`` is the only thing a way in does before acknowledging: the raw bytes are committed,
then the source is told (SMTP 250, IMAP flag). Parsing runs later as a task. Both steps are
idempotent: the same bytes make one raw row, the same mail (by Message-ID) one message.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from madoguchi import mail
from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Conversation, Message
from madoguchi.core import events
from madoguchi.core.event_types import EventType
from madoguchi.mail_in import kinds, parser, threading
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mail_in.parser import ParseFailure, Result
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox

log = logging.getLogger(__name__)

#: How the reason of a mail refused for its size starts (``retry`` leaves those alone).
TOO_BIG = "too big"


def accept(mailbox: Mailbox, raw: RawInbound, *, schedule: bool = True) -> tuple[RawMessage, bool]:
    """Commit the bytes for ``mailbox``; returns the row and whether it is new.

    When ``schedule`` is true, an ingest task is enqueued once the row is committed.
    """
    [(row, created)] = accept_many(mailbox, [raw], schedule=schedule)
    return row, created


def accept_many(
    mailbox: Mailbox, raws: list[RawInbound], *, schedule: bool = True
) -> list[tuple[RawMessage, bool]]:
    """``accept`` for several mails in one transaction and three queries."""
    digests = [hashlib.sha256(raw.data).hexdigest() for raw in raws]
    with transaction.atomic():
        known = {
            row.sha256: row
            for row in RawMessage.objects.filter(mailbox=mailbox, sha256__in=digests).only(
                "pk", "sha256", "status", "mailbox_id"
            )
        }
        fresh: dict[str, RawMessage] = {}
        for raw, digest in zip(raws, digests, strict=True):
            if digest not in known and digest not in fresh:
                fresh[digest] = RawMessage(
                    mailbox=mailbox,
                    sha256=digest,
                    data=raw.data,
                    size=len(raw.data),
                    source=raw.source,
                    origin=raw.origin[:1024],
                    envelope_from=raw.envelope_from[:320],
                    envelope_to=list(raw.envelope_to),
                )
        RawMessage.objects.bulk_create(fresh.values())
        if schedule and fresh:
            from madoguchi.mail_in.tasks import ingest_raw_message

            for row in fresh.values():
                transaction.on_commit(partial(ingest_raw_message.enqueue, row.pk))
    result: list[tuple[RawMessage, bool]] = []
    reported: set[str] = set()
    for digest in digests:
        created = digest in fresh and digest not in reported
        reported.add(digest)
        result.append((known.get(digest) or fresh[digest], created))
    return result


def refuse(mailbox: Mailbox, raw: RawInbound, reason: str) -> RawMessage:
    """Keep what was taken of a mail that is not let in (its header) as failed, with why."""
    row, _ = accept(mailbox, raw, schedule=False)
    fail(row, reason)
    return row


def dedupe_key(parsed: mail.ParsedMail, data: bytes) -> str:
    """Message-ID when there is one; otherwise a hash of what does not change in transit."""
    if parsed.message_id:
        return parsed.message_id
    body = data.split(b"\n\n", 1)[-1] if b"\r\n\r\n" not in data else data.split(b"\r\n\r\n", 1)[-1]
    head = f"{parsed.sender}|{parsed.date}|{parsed.subject}".encode()
    return "nomid:" + hashlib.sha256(head + b"\0" + body.replace(b"\r\n", b"\n")).hexdigest()


def ingest(raws: list[RawMessage], parsed_mails: list[Result] | None = None) -> list[Message]:
    """Parse, thread and store raw mails of one mailbox in one transaction. May raise.

    Rows already done are skipped; a mail seen before (same dedupe key) is marked duplicate.
    ``parsed_mails``, when given, are the parse results of each raw row (see ``pipeline``).
    Mail is parsed in a helper process held to a time limit (``parser``); a mail it could
    not parse is marked failed with the reason and never tried again unless asked.
    """
    mailbox = raws[0].mailbox
    if parsed_mails is None:
        parsed_mails = parser.parse_many([bytes(raw.data) for raw in raws])
    raws, parsed_ok = _set_aside_unparsed(raws, parsed_mails)
    if not raws:
        return []
    pairs = zip(raws, parsed_ok, strict=True)
    parsed = [(raw, kinds.judge(mailbox, raw, m)) for raw, m in pairs]
    with transaction.atomic():
        claimed = _claim(raws)
        todo = [
            (raw, m, dedupe_key(m, bytes(raw.data))[:512]) for raw, m in parsed if raw.pk in claimed
        ]
        batch, merges, duplicates = _thread(mailbox, todo)
        messages = conversations.receive_messages(mailbox, batch) if batch else []
        for target, sources, parent in merges:
            target_id = target.pk if isinstance(target, Conversation) else target
            conversations.merge_into(target_id, sources, parent_id=parent)
        _finish([i.raw.pk for i in batch], RawStatus.DONE)
        _finish(duplicates, RawStatus.DUPLICATE)
    for item in batch:
        item.raw.status = RawStatus.DONE
    return messages


def _set_aside_unparsed(
    raws: list[RawMessage], results: list[Result]
) -> tuple[list[RawMessage], list[mail.ParsedMail]]:
    """Mark the mails the parser gave up on failed (with the reason); return the others."""
    kept: list[tuple[RawMessage, mail.ParsedMail]] = []
    for raw, result in zip(raws, results, strict=True):
        if isinstance(result, ParseFailure):
            fail(raw, f"not parsed: {result.reason}")
        else:
            kept.append((raw, result))
    return [raw for raw, _ in kept], [parsed for _, parsed in kept]


def fail(raw: RawMessage, reason: str) -> None:
    """Mark one raw mail failed with ``reason`` (``madoguchi mail failed`` shows it)."""
    with transaction.atomic():
        changed = RawMessage.objects.filter(
            pk=raw.pk, status__in=[RawStatus.PENDING, RawStatus.FAILED]
        ).update(status=RawStatus.FAILED, error=reason, attempts=F("attempts") + 1)
        if changed:
            events.record(
                EventType.INGEST_FAILED, mailbox_id=raw.mailbox_id, raw=raw.pk, error=reason
            )
    raw.status = RawStatus.FAILED
    raw.error = reason


def _claim(raws: list[RawMessage]) -> set[int]:
    """Lock the rows still to be done (PostgreSQL: concurrent workers skip nothing twice)."""
    return set(
        RawMessage.objects.select_for_update()
        .filter(pk__in=[r.pk for r in raws], status__in=[RawStatus.PENDING, RawStatus.FAILED])
        .values_list("pk", flat=True)
    )


Merge = tuple[threading.ConvRef, list[int], str]
#: A stored conversation to merge, and the Message-ID of the mail that linked it.
Pending = tuple[int, str]


def _thread(
    mailbox: Mailbox, todo: list[tuple[RawMessage, mail.ParsedMail, str]]
) -> tuple[list[conversations.Inbound], list[Merge], list[int]]:
    """Place each new mail of the batch in order; duplicates are set aside.

    The mailbox row is locked first (PostgreSQL), so that two workers never thread related
    mails of one mailbox at once, each blind to the other's.
    """
    list(Mailbox.objects.select_for_update(no_key=True).filter(pk=mailbox.pk).values_list("pk"))
    seen = set(
        Message.objects.filter(mailbox=mailbox, dedupe_key__in=[k for _, _, k in todo]).values_list(
            "dedupe_key", flat=True
        )
    )
    key = settings.SECRET_KEY.encode()
    index = threading.ThreadIndex.load(mailbox, key, [m for _, m, _ in todo])
    batch: list[conversations.Inbound] = []
    pending: list[Pending] = []
    duplicates: list[int] = []
    for raw, parsed_mail, dedupe in todo:
        if dedupe in seen:
            duplicates.append(raw.pk)
            continue
        seen.add(dedupe)
        batch.append(
            _place(mailbox, raw, parsed_mail, key=dedupe, index=index, batch=batch, merges=pending)
        )
    merges = [(index.resolve(source), [source], parent) for source, parent in pending]
    return batch, merges, duplicates


def _place(
    mailbox: Mailbox,
    raw: RawMessage,
    parsed: mail.ParsedMail,
    *,
    key: str,
    index: threading.ThreadIndex,
    batch: list[conversations.Inbound],
    merges: list[Pending],
) -> conversations.Inbound:
    """Thread one mail of a batch; mails of this batch in merged conversations move in memory.

    Stored conversations to merge are added to ``merges`` (``merge_into`` after the batch is
    stored, into whatever conversation they end in by then).
    """
    placement = threading.place(parsed, index)
    target = placement.target if placement.target is not None else Conversation(mailbox=mailbox)
    parent = (parsed.message_id or "")[:512]
    if placement.merged:
        _merge_batch(placement.merged, target, parent, index=index, batch=batch, merges=merges)
    index.placed(parsed, target)
    return conversations.Inbound(raw, parsed, target, placement.rule, key)


def _merge_batch(
    merged: list[threading.ConvRef],
    target: threading.ConvRef,
    parent: str,
    *,
    index: threading.ThreadIndex,
    batch: list[conversations.Inbound],
    merges: list[Pending],
) -> None:
    """Merge ``merged`` into ``target``: in the index, in memory for this batch's mails."""
    keys = {threading.conv_key(c) for c in merged}
    for earlier in batch:
        if threading.conv_key(index.resolve(earlier.conversation)) in keys:
            earlier.rule = threading.rehang(earlier.mail, parent, earlier.rule)
    for other in merged:
        index.merge(other, target)
        if isinstance(other, int):
            merges.append((other, parent))
    for earlier in batch:
        earlier.conversation = index.resolve(earlier.conversation)


def _finish(ids: list[int], status: RawStatus, error: str = "") -> None:
    if ids:
        RawMessage.objects.filter(pk__in=ids).update(
            status=status, error=error, attempts=F("attempts") + 1
        )


def ingest_safely(
    raws: list[RawMessage], parsed_mails: list[Result] | None = None
) -> list[Message]:
    """``ingest`` a batch; if it fails, each mail alone, keeping a failure on its row.

    A failed row gets status failed, its traceback and an ``ingest.failed`` event.
    """
    if not raws:
        return []
    try:
        try:
            return ingest(raws, parsed_mails)
        except IntegrityError:
            if len(raws) > 1:
                raise
            # A concurrent ingest of the same mail won the unique (mailbox, dedupe_key) race:
            # once more, that message is visible and this one is marked duplicate.
            return ingest(raws, parsed_mails)
    except Exception as exc:
        if len(raws) > 1:
            return [m for raw in raws for m in ingest_safely([raw])]
        raw = raws[0]
        log.exception("ingest of raw message %s failed", raw.pk)
        with transaction.atomic():
            _finish([raw.pk], RawStatus.FAILED, "".join(traceback.format_exception(exc))[-8000:])
            events.record(
                EventType.INGEST_FAILED, mailbox_id=raw.mailbox_id, raw=raw.pk, error=str(exc)
            )
        return []


def ingest_pending(ids: Iterable[int] | None = None, *, include_failed: bool = False) -> int:
    """Ingest pending raw mail in this process (import, ``fetch --once``, recovery).

    Returns how many rows were processed.
    """
    statuses = [RawStatus.PENDING, RawStatus.FAILED] if include_failed else [RawStatus.PENDING]
    query = (
        RawMessage.objects.filter(status__in=statuses)
        .exclude(status=RawStatus.FAILED, error__startswith=TOO_BIG)
        .select_related("mailbox")
        .order_by("pk")
    )
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    count = 0
    last = 0
    while True:
        batch = list(query.filter(pk__gt=last)[:200])
        if not batch:
            return count
        by_mailbox: dict[int, list[RawMessage]] = {}
        for raw in batch:
            by_mailbox.setdefault(raw.mailbox_id, []).append(raw)
        for group in by_mailbox.values():
            ingest_safely(group)
        count += len(batch)
        last = batch[-1].pk


def retry(raw_ids: Iterable[int] | None) -> int:
    """Run failed rows again (all of them when ``raw_ids`` is None)."""
    if raw_ids is None:
        return ingest_pending(include_failed=True)
    return ingest_pending(raw_ids, include_failed=True)
