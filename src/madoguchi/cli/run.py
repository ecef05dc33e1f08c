"""`madoguchi run [web|worker|smtp|lmtp|imap|all]`: the process roles of one codebase.

``all`` runs every role in one process for a small team on SQLite: the web server in the
main thread, the task worker, the SMTP and LMTP listeners and one IMAP watcher per mailbox
in threads.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from typing import Any

log = logging.getLogger("madoguchi.run")
ROLES = ("web", "worker", "smtp", "lmtp", "imap")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run Madoguchi's processes")
    p.add_argument("roles", nargs="*", default=["all"], choices=[*ROLES, "all"], metavar="ROLE")
    p.add_argument("--demo", action="store_true", help="create the demo team, mailbox and mail")
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    roles = list(ROLES) if "all" in args.roles else list(dict.fromkeys(args.roles))
    if args.demo:
        from madoguchi.cli.commands import migrate
        from madoguchi.demo import ADDRESS, LOGINS, ensure_demo

        migrate()
        ensure_demo()
        logins = ", ".join(f"{user} / {password}" for user, password, _, _ in LOGINS)
        print(f"demo mailbox {ADDRESS}; sign in with {logins}", flush=True)
    return serve(roles)


def build_worker(*, batch: bool = False, interval: float = 0.2) -> Any:
    """The django-tasks-db worker for the default queue (``batch``: stop when it is empty)."""
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"madoguchi-{os.getpid()}-{threading.get_native_id()}",
        excluded_queue_names=[],
    )


def _worker(stop: threading.Event) -> threading.Thread:
    from madoguchi.mail_in.actions import ingest_pending

    worker = build_worker()

    def loop() -> None:
        ingest_pending()  # mail stored before a crash whose task never ran
        worker.run()

    def stopper() -> None:
        stop.wait()
        worker.running = False

    threading.Thread(target=stopper, daemon=True).start()
    thread = threading.Thread(target=loop, name="worker", daemon=True)
    thread.start()
    return thread


def _listeners(roles: list[str]) -> list[Any]:
    from django.conf import settings

    from madoguchi.mail_in.listeners import IntakeController

    conf = settings.MADOGUCHI
    started = []
    for role in ("smtp", "lmtp"):
        if role in roles:
            bind = conf.smtp_bind if role == "smtp" else conf.lmtp_bind
            ctl = IntakeController(
                role, host=bind.host, port=bind.port, max_bytes=conf.max_message_bytes
            )
            ctl.start()
            log.info("%s listening on %s", role.upper(), bind)
            started.append(ctl)
    return started


def _imap(stop: threading.Event) -> None:
    from django.conf import settings

    from madoguchi.mail_in.imap import watch
    from madoguchi.mailboxes.models import Mailbox

    poll = settings.MADOGUCHI.imap_poll_seconds
    for mailbox in Mailbox.objects.all():
        if mailbox.has_imap:
            threading.Thread(
                target=watch,
                args=(mailbox.pk, stop),
                kwargs={"poll_seconds": poll},
                name=f"imap-{mailbox.address}",
                daemon=True,
            ).start()
            log.info("IMAP watching %s", mailbox.address)


def serve(roles: list[str]) -> int:
    from django.conf import settings

    from madoguchi.cli.commands import migrate

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    migrate()
    stop = threading.Event()
    controllers = _listeners(roles)
    if "worker" in roles:
        _worker(stop)
    if "imap" in roles:
        _imap(stop)
    try:
        if "web" in roles:
            import uvicorn

            bind = settings.MADOGUCHI.web_bind
            # live messages are ~200 bytes: compressing them costs more CPU and memory
            # per connection than it saves (bench/realtime.py, docs/performance.md)
            uvicorn.run("madoguchi.asgi:application", host=bind.host, port=bind.port,
                        ws_per_message_deflate=False)  # fmt: skip
        else:
            signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for ctl in controllers:
            ctl.stop()
    return 0
