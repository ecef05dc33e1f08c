"""Export a mailbox's messages as JSON lines or as an mbox of the original bytes."""

from __future__ import annotations

import json
import mailbox as stdlib_mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from madoguchi.conversations.models import Attachment, Message
from madoguchi.mailboxes.models import Mailbox


def _messages(mailbox: Mailbox) -> Iterator[Message]:
    return (
        Message.objects.filter(mailbox=mailbox)
        .order_by("conversation_id", "id")
        .defer("text", "html", "reply_text")
        .iterator(chunk_size=500)
    )


def as_record(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    return {
        "conversation": message.conversation_id,
        "message_id": message.message_id,
        "direction": message.direction,
        "subject": message.subject,
        "from": {"name": message.from_name, "email": message.from_email},
        "date": message.date.isoformat() if message.date else None,
        "kind": message.kind,
        "thread_rule": message.thread_rule,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in attachments
        ],
    }


def export_jsonl(mailbox: Mailbox, out: IO[str]) -> int:
    count = 0
    by_message: dict[int, list[Attachment]] = {}
    for att in Attachment.objects.filter(message__mailbox=mailbox).order_by("id"):
        by_message.setdefault(att.message_id, []).append(att)
    for message in _messages(mailbox):
        record = as_record(message, by_message.get(message.pk, []))
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_mbox(mailbox: Mailbox, path: Path) -> int:
    box = stdlib_mailbox.mbox(str(path), create=True)
    count = 0
    try:
        box.lock()
        for message in (
            Message.objects.filter(mailbox=mailbox, raw__isnull=False)
            .select_related("raw")
            .order_by("conversation_id", "id")
            .iterator(chunk_size=200)
        ):
            assert message.raw is not None
            box.add(bytes(message.raw.data))
            count += 1
        box.flush()
    finally:
        box.unlock()
        box.close()
    return count
