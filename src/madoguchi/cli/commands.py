"""Subcommands that act on the data: init, mailbox, import, fetch, mail, stats, tick, export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from madoguchi.cli import logs


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="create or upgrade the database")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("mailbox", help="manage mailboxes")
    msub = p.add_subparsers(dest="mailbox_command", required=True)
    add = msub.add_parser("add", help="add a shared address")
    add.add_argument("address")
    add.add_argument("--name", default="")
    for proto in ("imap", "smtp"):
        add.add_argument(f"--{proto}-host", default="")
        add.add_argument(f"--{proto}-port", type=int)
        add.add_argument(f"--{proto}-user", default="")
        add.add_argument(f"--{proto}-password", default="",
                         help=f"visible to other users in `ps`: prefer --{proto}-password-file "
                              f"or MADOGUCHI_{proto.upper()}_PASSWORD")  # fmt: skip
        add.add_argument(
            f"--{proto}-password-file",
            metavar="FILE",
            help="read the password from FILE (first line; '-': standard input)",
        )
        add.add_argument(f"--{proto}-security", choices=["none", "ssl", "starttls"])
    add.add_argument("--imap-folder", default="INBOX")
    add.add_argument("--imap-after-fetch", choices=["leave", "seen", "move"], default="leave")
    add.add_argument("--imap-move-to", default="")
    add.set_defaults(handler=cmd_mailbox_add)
    lst = msub.add_parser("list", help="list mailboxes")
    lst.set_defaults(handler=cmd_mailbox_list)

    p = sub.add_parser("import", help="import .eml files, folders, mbox or Maildir")
    p.add_argument("--mailbox", required=True, metavar="ADDRESS")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("fetch", help="fetch mail from IMAP accounts")
    p.add_argument("--mailbox", metavar="ADDRESS")
    p.add_argument("--once", action="store_true", help="fetch once and parse now, then exit")
    p.set_defaults(handler=cmd_fetch)

    p = sub.add_parser("mail", help="raw mail that failed to parse")
    msub = p.add_subparsers(dest="mail_command", required=True)
    r = msub.add_parser("retry", help="parse failed mail again")
    r.add_argument("ids", nargs="*", type=int, metavar="ID")
    r.add_argument("--all", action="store_true")
    r.set_defaults(handler=cmd_mail_retry)
    f = msub.add_parser("failed", help="list failed raw mail with the reason")
    f.set_defaults(handler=cmd_mail_failed)
    c = msub.add_parser(
        "reclassify", help="apply the current classification to stored mail (see what it moves)"
    )
    c.add_argument("--mailbox", metavar="ADDRESS")
    c.add_argument("--dry-run", action="store_true", help="show what would move, store nothing")
    c.set_defaults(handler=cmd_mail_reclassify)

    p = sub.add_parser("stats", help="counts of mailboxes, conversations, messages")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stats)

    _register_tick(sub)

    _register_rebuilds(sub)

    p = sub.add_parser("export", help="export a mailbox's messages")
    p.add_argument("--mailbox", required=True, metavar="ADDRESS")
    p.add_argument("--format", choices=["jsonl", "mbox"], default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    p.set_defaults(handler=cmd_export)


def _register_tick(sub: Any) -> None:
    p = sub.add_parser(
        "tick",
        help="run the clock once: wake snoozes, raise follow-ups, record missed SLAs",
        description="What the worker does every MADOGUCHI_CLOCK_SECONDS, once (for cron "
        "when no worker runs). Each due item happens once, however late.",
    )
    p.add_argument("--json", action="store_true", help="the counts as JSON")
    p.set_defaults(handler=cmd_tick)


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_init(args: argparse.Namespace) -> int:
    from django.conf import settings

    migrate()
    print(f"database ready; data in {settings.DATA_DIR}")
    return 0


def _register_rebuilds(sub: Any) -> None:
    """What is derived from the stored data and can be built again: the search index and
    the reports' rollups."""
    p = sub.add_parser("reindex", help="build the search index again from what is stored")
    p.set_defaults(handler=cmd_reindex)
    _register_reports(sub)


def cmd_reindex(args: argparse.Namespace) -> int:
    from madoguchi.search.index import rebuild

    written = rebuild()
    print(f"search index rebuilt: {written} messages, notes and tag lines")
    return 0


def _register_reports(sub: Any) -> None:
    p = sub.add_parser("reports", help="the reports' rollups")
    actions = p.add_subparsers(dest="reports_action", required=True)
    rebuild = actions.add_parser(
        "rebuild", help="count the reports again from the whole event history"
    )
    rebuild.add_argument("--mailbox", type=int, help="only this mailbox (its id)")
    rebuild.set_defaults(handler=cmd_reports_rebuild)


def cmd_reports_rebuild(args: argparse.Namespace) -> int:
    from madoguchi.reports.rollup import rebuild

    migrate()
    read = rebuild(mailbox_id=args.mailbox)
    print(f"reports rebuilt from {read} events")
    return 0


def cmd_mailbox_add(args: argparse.Namespace) -> int:
    from madoguchi.mailboxes.actions import create_mailbox

    if args.imap_password_file == "-" and args.smtp_password_file == "-":
        raise ValueError("only one of --imap-password-file and --smtp-password-file can be '-'")
    migrate()
    fields: dict[str, Any] = {"name": args.name}
    for proto in ("imap", "smtp"):
        setattr(args, f"{proto}_password", _mailbox_password(args, proto))
        for key in ("host", "port", "user", "password", "security"):
            value = getattr(args, f"{proto}_{key}")
            if value not in (None, ""):
                fields[f"{proto}_{key}"] = value
    fields.update(imap_folder=args.imap_folder, imap_after_fetch=args.imap_after_fetch)
    if args.imap_move_to:
        fields["imap_move_to"] = args.imap_move_to
    if args.imap_after_fetch == "move" and not args.imap_move_to:
        raise ValueError("--imap-after-fetch move needs --imap-move-to FOLDER")
    mailbox = create_mailbox(args.address, **fields)
    print(f"mailbox {mailbox.address} added (id {mailbox.pk})")
    return 0


def _mailbox_password(args: argparse.Namespace, proto: str) -> str:
    """From --PROTO-password-file, MADOGUCHI_PROTO_PASSWORD, or (warned) --PROTO-password."""
    import os

    path, typed = getattr(args, f"{proto}_password_file"), getattr(args, f"{proto}_password")
    variable = {"imap": "MADOGUCHI_IMAP_PASSWORD", "smtp": "MADOGUCHI_SMTP_PASSWORD"}[proto]
    if path and typed:
        raise ValueError(f"give --{proto}-password-file or --{proto}-password, not both")
    if path:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise ValueError(f"--{proto}-password-file: {path} holds no password on its first line")
        return lines[0]
    if typed:
        print(f"warning: --{proto}-password is visible to other users of this machine (ps); "
              f"use --{proto}-password-file or {variable} instead", file=sys.stderr)  # fmt: skip
        return str(typed)
    return os.environ.get(variable, "")


def cmd_mailbox_list(args: argparse.Namespace) -> int:
    from madoguchi.mailboxes.models import Mailbox

    for mb in Mailbox.objects.all():
        imap = f"imap {mb.imap_user}@{mb.imap_host}" if mb.has_imap else "no imap"
        print(f"{mb.pk}\t{mb.address}\t{mb.name}\t{imap}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from madoguchi.mail_in.importer import import_paths
    from madoguchi.mailboxes.queries import mailbox_by_address

    migrate()
    mailbox = mailbox_by_address(args.mailbox)
    with tqdm(unit="mail", disable=args.quiet, file=sys.stderr, desc="importing") as bar:
        summary = import_paths(mailbox, args.paths, progress=bar.update)
    for line in summary.lines():
        print(line)
    return 0 if summary.read or not summary.skipped else 1


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch once (``--once``), or keep watching (one mailbox with ``--mailbox``, else all)."""
    from madoguchi.mail_in import imap
    from madoguchi.mail_in.pipeline import Pipeline
    from madoguchi.mailboxes.models import Mailbox
    from madoguchi.mailboxes.queries import mailbox_by_address

    migrate()
    if args.mailbox:
        boxes = [mailbox_by_address(args.mailbox)]
        if not boxes[0].has_imap:
            raise ValueError(f"mailbox {boxes[0].address} has no IMAP account")
    else:
        boxes = [mb for mb in Mailbox.objects.all() if mb.has_imap]
    if not args.once:
        from madoguchi.cli.run import serve

        return serve(["imap", "worker"], imap_only=boxes[0].pk if args.mailbox else None)
    failures = 0
    for mailbox in boxes:
        try:
            with Pipeline() as pipeline:
                result = imap.fetch_once(mailbox, schedule=False, on_chunk=pipeline.add)
        except Exception as exc:
            print(f"{mailbox.address}: {exc}", file=sys.stderr)
            failures += 1
            continue
        errors = f", {len(result.errors)} errors" if result.errors else ""
        print(f"{mailbox.address}: {result.fetched} new, {result.already_had} already had{errors}")
    return 1 if failures else 0


def cmd_mail_retry(args: argparse.Namespace) -> int:
    from madoguchi.mail_in import actions
    from madoguchi.mail_in.models import RawMessage, RawStatus

    if not args.all and not args.ids:
        raise ValueError("give raw message IDs or --all")
    count = actions.retry(None if args.all else args.ids)
    failed = RawMessage.objects.filter(status=RawStatus.FAILED)
    too_big = failed.filter(error__startswith=actions.TOO_BIG).count()
    still = failed.count() - too_big
    big = f"; {too_big} too big to take (left on the server, not retried)" if too_big else ""
    print(f"retried {count}; {still} still failed{big}")
    return 0 if still == 0 else 1


def cmd_mail_failed(args: argparse.Namespace) -> int:
    from madoguchi.mail_in.models import RawMessage, RawStatus

    for raw in RawMessage.objects.filter(status=RawStatus.FAILED).order_by("pk"):
        reason = raw.error.strip().splitlines()[-1] if raw.error.strip() else "unknown"
        print(f"{raw.pk}\t{raw.source}\t{raw.origin}\t{reason}")
    return 0


def cmd_mail_reclassify(args: argparse.Namespace) -> int:
    from madoguchi.mail_in.kinds import reclassify
    from madoguchi.mailboxes.models import Mailbox

    mailbox = None
    if args.mailbox:
        mailbox = Mailbox.objects.filter(address=args.mailbox.lower()).first()
        if mailbox is None:
            raise ValueError(f"no mailbox {args.mailbox}")
    changes, moved = reclassify(mailbox, dry_run=args.dry_run)
    for change in changes:
        print(f"message {change.message_id}: {change.before} -> {change.after}")
    verb = "would move" if args.dry_run else "moved"
    for conv in moved:
        print(f"{verb} #{conv.pk} back to new mail: {conv.subject}")
    print(f"{len(changes)} messages reclassified; {verb} {len(moved)} conversations to new mail")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from madoguchi.mail_in.queries import stats

    numbers = stats()
    if args.json:
        print(json.dumps(numbers))
    else:
        for key, value in numbers.items():
            print(f"{key}: {value}")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    """Exit status 1 when a step failed (its traceback is logged on standard error)."""
    import logging

    from madoguchi.automation.clock import FAILED, tick

    logs.to_stderr(logging.WARNING, "%(name)s: %(message)s")
    migrate()
    counts = tick()
    if args.json:
        print(json.dumps(counts))
    else:
        for name, count in counts.items():
            print(f"{name}: {'failed' if count == FAILED else count}")
    return 1 if FAILED in counts.values() else 0


def cmd_export(args: argparse.Namespace) -> int:
    import os

    from madoguchi.accounts import audit
    from madoguchi.accounts.models import AuditAction
    from madoguchi.mail_in.export import export_jsonl, export_mbox
    from madoguchi.mailboxes.queries import mailbox_by_address

    mailbox = mailbox_by_address(args.mailbox)
    if args.format == "mbox":
        if not args.output:
            raise ValueError("--format mbox needs --output FILE")
        count = export_mbox(mailbox, args.output)
    elif args.output:
        with args.output.open("w", encoding="utf-8") as fh:
            count = export_jsonl(mailbox, fh)
    else:
        count = export_jsonl(mailbox, sys.stdout)
    user = os.environ.get("USER", "")
    audit.record(AuditAction.EXPORT, actor=None, target=mailbox.address, via="command line",
                 format=args.format, messages=count, os_user=user)  # fmt: skip
    print(f"exported {count} messages", file=sys.stderr)
    return 0
