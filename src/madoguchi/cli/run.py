"""`madoguchi run [web|worker|smtp|lmtp|imap|all]`: the process roles of one codebase.

The worker role also runs the clock (``automation.clock``: snoozes, follow-ups, SLAs)
every ``MADOGUCHI_CLOCK_SECONDS`` in a thread of its own.

``all`` runs every role in one process for a small team on SQLite: the web server in the
main thread, the task worker, the SMTP and LMTP listeners and the IMAP supervisor (one
watcher per mailbox with an IMAP account, following the admin's changes) in threads.

Each role may run in several processes, on several machines, over one PostgreSQL database
(docs/deploy.md): web processes follow one event table, workers claim each task once
(django-tasks-db), listeners only store and commit, and IMAP processes share the mailboxes
by lease (``mail_in.watchers``; ``--imap-lease-seconds`` is how long a crashed process
keeps its mailboxes).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from madoguchi.cli import logs

if TYPE_CHECKING:
    from madoguchi.mail_in.watchers import Supervisor

log = logging.getLogger("madoguchi.run")
ROLES = ("web", "worker", "smtp", "lmtp", "imap")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run Madoguchi's processes")
    p.add_argument("roles", nargs="*", default=["all"], choices=[*ROLES, "all"], metavar="ROLE")
    p.add_argument(
        "--demo",
        action="store_true",
        help="to try it: create the demo team (passwords demo and sato), mailbox and mail; "
        "only on a loopback web bind",
    )
    p.add_argument(
        "--allow-demo-on-network",
        action="store_true",
        help="start even though the web server listens beyond this machine while the demo "
        "passwords work (anyone who can reach it can sign in as the demo admin)",
    )
    p.add_argument(
        "--imap-lease-seconds",
        type=_lease_seconds,
        default=None,
        metavar="SECONDS",
        help="imap role: how long a mailbox stays with a process that stopped renewing its "
        "lease (crashed) before another IMAP process takes it over (default: 30)",
    )
    p.set_defaults(handler=cmd_run)


def _lease_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 1 and 3600 seconds, got {value}")
    return seconds


DEMO_BANNER = """\
************************************************************************
*  DEMO MODE: demo/demo passwords, do not expose                       *
*  Anyone who reaches this server can sign in as the demo admin.       *
*  For your team: madoguchi createadmin, and run without --demo.       *
************************************************************************"""


def cmd_run(args: argparse.Namespace) -> int:
    roles = list(ROLES) if "all" in args.roles else list(dict.fromkeys(args.roles))
    from madoguchi.cli.commands import migrate

    migrate()
    if args.demo:
        from madoguchi.demo import ADDRESS, LOGINS, ensure_demo

        # refuse before the demo accounts exist, so a refused start leaves nothing behind
        _guard_demo_bind(roles, forced=args.allow_demo_on_network, why="--demo")
        print(DEMO_BANNER, flush=True)
        ensure_demo()
        logins = ", ".join(f"{user} / {password}" for user, password, _, _ in LOGINS)
        print(f"demo mailbox {ADDRESS}; sign in with {logins}", flush=True)
    else:
        names = working_demo_logins()
        if names:
            why = f"the demo accounts {', '.join(names)} still have their demo passwords"
            print(f"WARNING: {why}; change them on the settings page", file=sys.stderr)
            _guard_demo_bind(roles, forced=args.allow_demo_on_network, why=why)
        if "web" in roles:
            _first_run_hint()
    return serve(roles, lease_seconds=args.imap_lease_seconds)


def _first_run_hint() -> None:
    from django.conf import settings

    from madoguchi.accounts.firstrun import has_admin

    if has_admin():
        return
    bind = settings.MADOGUCHI.web_bind
    hint = "No admin yet: run `madoguchi createadmin` on this machine"
    if bind.host in ("0.0.0.0", "::") or is_loopback(bind.host):  # noqa: S104
        host = "[::1]" if bind.host in ("::", "::1") else "127.0.0.1"
        hint += f", or open http://{host}:{bind.port}/setup/ in a browser here"
    print(hint, flush=True)


def is_loopback(host: str) -> bool:
    """Only this machine can connect to ``host`` (names other than localhost count as not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard_demo_bind(roles: list[str], *, forced: bool, why: str) -> None:
    """Refuse to serve demo passwords beyond this machine unless the operator insists."""
    from django.conf import settings

    bind = settings.MADOGUCHI.web_bind
    if "web" not in roles or is_loopback(bind.host) or forced:
        return
    raise ValueError(
        f"refusing to listen on {bind} with {why}: anyone on the network could sign in as "
        "the demo admin. Use a loopback MADOGUCHI_WEB_BIND (127.0.0.1:8000), create real "
        "accounts with `madoguchi createadmin`, or add --allow-demo-on-network"
    )


def working_demo_logins() -> list[str]:
    """The demo accounts that still sign in with their published passwords."""
    from django.contrib.auth.models import User

    from madoguchi.demo import LOGINS

    names = []
    for username, password, _, _ in LOGINS:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is not None and user.check_password(password):
            names.append(username)
    return names


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
    from django.db import close_old_connections

    from madoguchi.mail_in.actions import ingest_pending
    from madoguchi.mail_out.actions import deliver_overdue

    worker = build_worker()

    def loop() -> None:
        ingest_pending()  # mail stored before a crash whose task never ran
        deliver_overdue()  # replies queued before a crash whose delivery never ran
        log.info("worker %s: taking tasks", worker.worker_id)
        while worker.running:
            try:
                worker.run()
            except Exception:  # the database away, or still locked after its timeout
                log.exception("worker %s: cannot take tasks; trying again", worker.worker_id)
                close_old_connections()
                stop.wait(5)

    def stopper() -> None:
        stop.wait()
        worker.running = False

    threading.Thread(target=stopper, daemon=True).start()
    thread = threading.Thread(target=loop, name="worker", daemon=True)
    thread.start()
    _clock(stop)
    return thread


def _clock(stop: threading.Event) -> threading.Thread:
    """Tick ``automation.clock`` every ``MADOGUCHI_CLOCK_SECONDS`` until ``stop``: at once
    on start (snoozes that ended while the worker was down wake now), then on time."""
    from django.conf import settings
    from django.db import close_old_connections

    from madoguchi.automation.clock import tick

    every = settings.MADOGUCHI.clock_seconds

    def loop() -> None:
        while not stop.is_set():
            close_old_connections()
            try:
                tick()
            except Exception:  # the database is away: try again next time
                log.exception("clock: tick failed")
            stop.wait(every)

    thread = threading.Thread(target=loop, name="clock", daemon=True)
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


def _imap(
    stop: threading.Event, only: int | None = None, lease_seconds: float | None = None
) -> Supervisor:
    """Start the IMAP supervisor (``mail_in.watchers``); ``only``: watch that mailbox alone;
    ``lease_seconds``: the length of its leases (default ``watchers.LEASE_SECONDS``)."""
    from django.conf import settings

    from madoguchi.mail_in.watchers import LEASE_SECONDS, Supervisor

    conf = settings.MADOGUCHI
    supervisor = Supervisor(
        stop,
        poll_seconds=conf.imap_poll_seconds,
        rescan_seconds=conf.imap_rescan_seconds,
        only=only,
        lease_seconds=lease_seconds or LEASE_SECONDS,
    )
    supervisor.start()
    return supervisor


def serve(
    roles: list[str], *, imap_only: int | None = None, lease_seconds: float | None = None
) -> int:
    """Run ``roles`` until stopped; ``imap_only``: the IMAP role watches that mailbox alone;
    ``lease_seconds``: the length of the IMAP role's leases."""
    from django.conf import settings

    from madoguchi.cli.commands import migrate

    logs.to_stderr(logging.INFO, "%(asctime)s %(name)s: %(message)s")
    migrate()
    stop = threading.Event()
    controllers = _listeners(roles)
    if "worker" in roles:
        _worker(stop)
    supervisor = _imap(stop, imap_only, lease_seconds) if "imap" in roles else None
    try:
        if "web" in roles:
            import uvicorn

            bind = settings.MADOGUCHI.web_bind
            # live messages are ~200 bytes: compressing them costs more CPU and memory
            # per connection than it saves (bench/realtime.py, docs/performance.md)
            from madoguchi.live.consumers import MAX_MESSAGE_BYTES

            # proxy headers: core.proxy believes them from MADOGUCHI_TRUSTED_PROXIES only
            uvicorn.run("madoguchi.asgi:application", host=bind.host, port=bind.port,
                        ws_per_message_deflate=False, ws_max_size=MAX_MESSAGE_BYTES,
                        proxy_headers=False, server_header=False)  # fmt: skip
        else:
            signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for ctl in controllers:
            ctl.stop()
        if supervisor is not None:
            supervisor.join(timeout=15)
    return 0
