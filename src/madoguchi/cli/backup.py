"""`madoguchi backup`, `restore` and `migrate-to` (docs/backup.md), thin over ``core.backup``.

Any failure, a database's included, prints one line and exits 1; never a traceback.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from madoguchi.core.backup import Result

T = TypeVar("T")

#: The columns that name attachment files (``core.blobs``) by their SHA-256: a backup
#: carries every file they name.
BLOB_COLUMNS = ("conversations.Attachment.sha256", "reply_templates.TemplateAttachment.sha256")

#: The tables a summary line names, with the word for their rows.
HEADLINE = {"conversations_conversation": "conversations", "conversations_message": "messages"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backup",
        help="copy the database and attachment files into a new folder (mail may keep coming)",
        description="A consistent copy of the database and of every attachment file it "
        "names, taken while Madoguchi runs. PATH must not exist or be empty.",
    )
    p.add_argument("path", type=Path, metavar="PATH")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="restore a backup into an empty installation",
        description="Check every file of the backup against its manifest, then restore it "
        "into this installation's database and attachment store. Stop Madoguchi first.",
    )
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--force", action="store_true", help="replace the data this installation has")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser(
        "migrate-to",
        help="copy this installation's database into an empty PostgreSQL database",
        description="Copy every row into the PostgreSQL database at URL (created empty "
        "beforehand, e.g. `createdb madoguchi`), then print the rows per table. Stop "
        "Madoguchi first, then set MADOGUCHI_DATABASE_URL=URL for every process.",
    )
    p.add_argument("url", metavar="URL", help="postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME")
    p.set_defaults(handler=cmd_migrate_to)


def cmd_backup(args: argparse.Namespace) -> int:
    from madoguchi.core import backup

    result = _run(lambda: backup.backup(args.path, blob_columns=BLOB_COLUMNS))
    _missing(result.missing, "the attachment store lacks (or holds damaged)")
    print(f"backup written to {args.path} in {result.seconds:.1f} s: {_headline(result)}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from madoguchi.core import backup

    result = _run(lambda: backup.restore(args.path, replace=args.force))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _missing(result.missing, "the backup lacks")
    print(f"restored {args.path} in {result.seconds:.1f} s: {_headline(result)}")
    return 0


def cmd_migrate_to(args: argparse.Namespace) -> int:
    from madoguchi.core import backup

    result = _run(lambda: backup.migrate_to(args.url))
    width = max(map(len, result.counts), default=0)
    for table, count in result.counts.items():
        print(f"{table:<{width}}  {count}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    rows = sum(result.counts.values())
    print(f"copied {rows} rows of {len(result.counts)} tables in {result.seconds:.1f} s")
    print(f"next: stop Madoguchi, set MADOGUCHI_DATABASE_URL={backup.redact(args.url)} "
          "for every process, and start it again")  # fmt: skip
    return 0


def _run(step: Callable[[], T]) -> T:
    """``step()``, with a database's error turned into the one-line kind."""
    from django.db import Error

    from madoguchi.core.backup import BackupError

    try:
        return step()
    except (Error, sqlite3.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackupError(f"database error: {first}") from None


def _headline(result: Result) -> str:
    named = [f"{result.counts.get(table, 0)} {word}" for table, word in HEADLINE.items()]
    return ", ".join([*named, f"{result.blobs} attachment files"])


def _missing(shas: tuple[str, ...], where: str) -> None:
    if shas:
        print(f"warning: {len(shas)} attachment files {where} (listed in the manifest's "
              f"missing_blobs), e.g. {shas[0]}", file=sys.stderr)  # fmt: skip
