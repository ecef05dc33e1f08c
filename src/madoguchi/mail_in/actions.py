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

from django.db import IntegrityError, transaction

from madoguchi import mail
from madoguchi.conversations import actions as conversations
from madoguchi.conversations.models import Message
from madoguchi.core import events
from madoguchi.mail_in import threading
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox

log = logging.getLogger(__name__)


def accept(mailbox: Mailbox, raw: RawInbound, *, schedule: bool = True) -> tuple[RawMessage, bool]:
    """Commit the bytes for ``mailbox``; returns the row and whether it is new.

    When ``schedule`` is true, an ingest task is enqueued once the row is committed.
    """
    digest = hashlib.sha256(raw.data).hexdigest()
    with transaction.atomic():
        row, created = RawMessage.objects.get_or_create(
            mailbox=mailbox,
            sha256=digest,
            defaults={
                "data": raw.data,
                "size": len(raw.data),
                "source": raw.source,
                "origin": raw.origin[:1024],
                "envelope_from": raw.envelope_from[:320],
                "envelope_to": list(raw.envelope_to),
            },
        )
        if created and schedule:
            from madoguchi.mail_in.tasks import ingest_raw_message

            transaction.on_commit(partial(ingest_raw_message.enqueue, row.pk))
    return row, created


def dedupe_key(parsed: mail.ParsedMail, data: bytes) -> str:
    """Message-ID when there is one; otherwise a hash of what does not change in transit."""
    if parsed.message_id:
        return parsed.message_id
    body = data.split(b"\n\n", 1)[-1] if b"\r\n\r\n" not in data else data.split(b"\r\n\r\n", 1)[-1]
    head = f"{parsed.sender}|{parsed.date}|{parsed.subject}".encode()
    return "nomid:" + hashlib.sha256(head + b"\0" + body.replace(b"\r\n", b"\n")).hexdigest()


def ingest(raw: RawMessage) -> Message | None:
    """Parse, thread and store one raw mail. Returns None for a duplicate. May raise."""
    parsed = mail.parse(bytes(raw.data))
    key = dedupe_key(parsed, bytes(raw.data))
    mailbox = raw.mailbox
    with transaction.atomic():
        locked = RawMessage.objects.select_for_update().only("status").get(pk=raw.pk)
        if locked.status in (RawStatus.DONE, RawStatus.DUPLICATE):
            return Message.objects.filter(raw=raw).first()
        if Message.objects.filter(mailbox=mailbox, dedupe_key=key[:512]).exists():
            _finish(raw, RawStatus.DUPLICATE)
            return None
        placement = threading.place(parsed, mailbox)
        message = conversations.receive_message(
            mailbox,
            parsed,
            raw=raw,
            conversation=placement.conversation,
            rule=placement.rule,
            dedupe_key=key,
        )
        if placement.orphans and parsed.message_id:
            conversations.merge_into(
                message.conversation, placement.orphans, parent_id=parsed.message_id[:512]
            )
        _finish(raw, RawStatus.DONE)
    return message


def _finish(raw: RawMessage, status: RawStatus, error: str = "") -> None:
    RawMessage.objects.filter(pk=raw.pk).update(status=status, error=error)
    raw.status, raw.error = status, error


def ingest_safely(raw: RawMessage) -> Message | None:
    """``ingest``, but a failure is kept on the row (status failed, the traceback) and logged."""
    RawMessage.objects.filter(pk=raw.pk).update(attempts=raw.attempts + 1)
    try:
        return ingest(raw)
    except IntegrityError:
        # A concurrent ingest of the same mail won the unique (mailbox, dedupe_key) race.
        _finish(raw, RawStatus.DUPLICATE)
        return None
    except Exception as exc:
        log.exception("ingest of raw message %s failed", raw.pk)
        with transaction.atomic():
            _finish(raw, RawStatus.FAILED, "".join(traceback.format_exception(exc))[-8000:])
            events.record("ingest.failed", mailbox_id=raw.mailbox_id, raw=raw.pk, error=str(exc))
        return None


def ingest_pending(ids: Iterable[int] | None = None, *, include_failed: bool = False) -> int:
    """Ingest pending raw mail in this process (import, ``fetch --once``, recovery).

    Returns how many rows were processed.
    """
    statuses = [RawStatus.PENDING, RawStatus.FAILED] if include_failed else [RawStatus.PENDING]
    query = RawMessage.objects.filter(status__in=statuses).select_related("mailbox").order_by("pk")
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    count = 0
    last = 0
    while True:
        batch = list(query.filter(pk__gt=last)[:200])
        if not batch:
            return count
        for raw in batch:
            ingest_safely(raw)
            count += 1
        last = batch[-1].pk


def retry(raw_ids: Iterable[int] | None) -> int:
    """Run failed rows again (all of them when ``raw_ids`` is None)."""
    if raw_ids is None:
        return ingest_pending(include_failed=True)
    return ingest_pending(raw_ids, include_failed=True)
