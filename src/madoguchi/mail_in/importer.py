"""Import mail files: single ``.eml`` files, folders of them, mbox files and Maildirs.

A team's Google Takeout (mbox) or an archive folder becomes conversations the same way
delivered mail does: ``accept`` stores each mail, then it is ingested in this process.
A file that is not mail is reported and skipped.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage, RawStatus
from madoguchi.mail_in.pipeline import Pipeline
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.models import Mailbox

BATCH = 200
BATCH_BYTES = 16 * 1024 * 1024  # a batch of large mails is cut earlier
_HEADER = re.compile(rb"^[\x21-\x39\x3b-\x7e]{1,76}:", re.MULTILINE)
_KNOWN = re.compile(
    rb"^(from|date|subject|message-id|received|to|return-path|mime-version):", re.I | re.M
)


@dataclass
class ImportSummary:
    read: int = 0
    stored: int = 0
    already_had: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    #: The range of raw row ids this import touched, to count its failures at the end.
    first_id: int | None = None
    last_id: int = 0

    def lines(self) -> list[str]:
        out = [
            f"read {self.read} mails: {self.stored} new, {self.already_had} already imported, "
            f"{self.failed} failed to parse (see `madoguchi mail retry`)",
        ]
        out += [f"skipped {item}" for item in self.skipped]
        return out


def looks_like_mail(head: bytes) -> bool:
    """True when the first bytes read as an RFC 5322 header block."""
    head = head.lstrip(b"\r\n")
    return bool(_HEADER.match(head)) and bool(_KNOWN.search(head[:16384]))


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new"))


def _read_file(path: Path) -> Iterator[tuple[str, bytes | str]]:
    try:
        with path.open("rb") as fh:
            head = fh.read(16384)
    except OSError as exc:
        yield str(path), f"cannot read: {exc.strerror}"
        return
    if head.startswith(b"From "):
        box = stdlib_mailbox.mbox(str(path), create=False)
        for key in box.iterkeys():
            yield f"{path}#{key}", box.get_bytes(key)
        box.close()
    elif looks_like_mail(head):
        yield str(path), path.read_bytes()
    else:
        yield str(path), "not a mail file"


def _read_maildir(path: Path) -> Iterator[tuple[str, bytes | str]]:
    box = stdlib_mailbox.Maildir(str(path), factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield f"{path}/{key}", box.get_bytes(key)


def read_sources(paths: Iterable[Path]) -> Iterator[tuple[str, bytes | str]]:
    """(origin, bytes) per mail, or (origin, reason) for something that is not mail."""
    for path in paths:
        if not path.exists():
            yield str(path), "no such file or folder"
        elif path.is_dir() and _is_maildir(path):
            yield from _read_maildir(path)
        elif path.is_dir():
            children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            yield from read_sources(children)
        else:
            yield from _read_file(path)


def import_paths(
    mailbox: Mailbox,
    paths: Iterable[Path],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    batch: list[tuple[str, bytes]] = []
    size = 0
    with Pipeline() as pipeline:
        for origin, item in read_sources(paths):
            if isinstance(item, str):
                summary.skipped.append(f"{origin}: {item}")
                continue
            batch.append((origin, item))
            size += len(item)
            if len(batch) >= BATCH or size >= BATCH_BYTES:
                _store_batch(mailbox, batch, summary, pipeline, progress)
                batch, size = [], 0
        _store_batch(mailbox, batch, summary, pipeline, progress)
    if summary.first_id is not None:
        summary.failed = RawMessage.objects.filter(
            mailbox=mailbox,
            pk__range=(summary.first_id, summary.last_id),
            status=RawStatus.FAILED,
            source="import",
        ).count()
    return summary


def _store_batch(
    mailbox: Mailbox,
    batch: list[tuple[str, bytes]],
    summary: ImportSummary,
    pipeline: Pipeline,
    progress: Callable[[int], None] | None,
) -> None:
    if not batch:
        return
    inbound = [RawInbound(data=data, source="import", origin=origin) for origin, data in batch]
    accepted = actions.accept_many(mailbox, inbound, schedule=False)
    ids = [raw.pk for raw, _ in accepted]
    summary.first_id = min(ids + ([summary.first_id] if summary.first_id else []))
    summary.last_id = max(ids + [summary.last_id])
    summary.read += len(accepted)
    summary.stored += sum(created for _, created in accepted)
    summary.already_had += sum(not created for _, created in accepted)
    # Rows already there but still pending (an interrupted import) are finished too.
    pipeline.add([raw for raw, _ in accepted])
    if progress:
        progress(len(batch))
