"""A real, throwaway Postfix MTA for tests, relaying to an LMTP server.

``Postfix(lmtp_host, lmtp_port, domains)`` writes main.cf/master.cf into a fresh
/tmp dir (own config, queue and data dirs, so it coexists with a system Postfix),
runs ``postfix -c DIR start-fg`` with SMTP on a free loopback port, and hands every
mail for ``domains`` to ``lmtp:inet:HOST:PORT``.  Retries are fast (1-3 s)
so an LMTP 4xx is seen again within seconds::

    with Postfix("127.0.0.1", lmtp_port, ["example.com"]) as pf:
        pf.send(raw, "sender@example.org", ["team@example.com"])
        pf.wait_empty()

Mail for any other domain is refused at RCPT time; nothing ever leaves the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import smtplib
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from . import (
    LOOPBACK,
    ManagedServer,
    ServerError,
    free_port,
    group_pids,
    kill_group,
    make_workdir,
    register,
    terminate,
    wait_for_banner,
)

__all__ = ["Postfix"]

PREFIX = "madoguchi-postfix-"
MASTER_PID = "queue/pid/master.pid"

# Services Postfix needs for SMTP in, LMTP out, bounces and postqueue; chroot "n".
MASTER_CF = """\
{host}:{port} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


# What `postfix check` (post-install create-missing) would create, done in 1 ms
# instead of ~2 s: (path, owner, group, mode).
QUEUE_LAYOUT = [
    ("queue", "root", "root", 0o755),
    ("queue/pid", "root", "root", 0o755),
    ("queue/maildrop", "postfix", "postdrop", 0o730),
    ("queue/public", "postfix", "postdrop", 0o710),
    ("data", "postfix", "root", 0o700),
] + [
    (f"queue/{q}", "postfix", "root", 0o700)
    for q in (
        "active",
        "bounce",
        "corrupt",
        "defer",
        "deferred",
        "flush",
        "hold",
        "incoming",
        "private",
        "saved",
        "trace",
    )
]


def _make_queue(base: Path) -> None:
    for rel, owner, group, mode in QUEUE_LAYOUT:
        path = base / rel
        path.mkdir()
        shutil.chown(path, owner, group)
        path.chmod(mode)  # after mkdir: the umask must not trim it


class Postfix(ManagedServer):
    """One Postfix instance; ``start()``/``stop()`` or use as a context manager.

    ``settings`` adds or overrides main.cf parameters (e.g. ``message_size_limit``).
    ``check=True`` also runs ``postfix check`` (slow: ~2 s of shell) before starting.
    """

    host: str = LOOPBACK

    def __init__(
        self,
        lmtp_host: str,
        lmtp_port: int,
        domains: Iterable[str] = ("example.com",),
        *,
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 15.0,
        check: bool = False,
    ) -> None:
        self.lmtp_host = lmtp_host
        self.lmtp_port = lmtp_port
        self.domains = [d.lower() for d in domains]
        if not self.domains:
            raise ValueError("at least one domain is needed")
        self.settings = dict(settings or {})
        self.start_timeout = start_timeout
        self.check = check
        self.port = 0
        self.dir = Path()
        self.config_dir = Path()
        self._proc: subprocess.Popen[bytes] | None = None

    # -- configuration ---------------------------------------------------

    def main_cf(self) -> dict[str, str]:
        d = self.dir
        nexthop = f"lmtp:inet:{self.lmtp_host}:{self.lmtp_port}"
        transport = " ".join(f"{dom}={nexthop}" for dom in self.domains)  # no spaces around =
        params = {
            "compatibility_level": "3.6",
            "queue_directory": f"{d}/queue",
            "data_directory": f"{d}/data",
            "meta_directory": "/etc/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": f"{d.name}.localhost",
            "mydomain": "localhost",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": self.host,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": ", ".join(self.domains),
            "transport_maps": f"inline:{{ {transport} }}",
            "default_transport": "error:5.7.1 test Postfix: no mail leaves this machine",
            "smtpd_recipient_restrictions": "permit_auth_destination, reject",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            "smtpd_peername_lookup": "no",
            "maillog_file": f"{d}/maillog",
            "maillog_file_prefixes": str(d),  # maillog_file must sit under one of these
            # Fast retries: a deferred mail is tried again 1-3 s later.  Not 1s: qmgr
            # scans deferred/ every second and takes files up to 1 s early; it could
            # then find the file still locked by the delivery agent that deferred it
            # ("skipped, still being delivered") and park it for a hard-coded 60 s.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "in_flow_delay": "0",
            "delay_warning_time": "0",
            "lmtp_connect_timeout": "5s",
            "lmtp_data_done_timeout": "30s",
            "smtpd_error_sleep_time": "0",
        }
        params.update(self.settings)
        return params

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        if self._proc is not None:
            return self
        self.dir = make_workdir(PREFIX, MASTER_PID)
        self.config_dir = self.dir / "conf"
        self.config_dir.mkdir(mode=0o755)
        _make_queue(self.dir)
        register(self)
        last: Exception | None = None
        for _attempt in range(3):  # a "free" port can be taken before master binds it
            try:
                self._spawn()
                return self
            except ServerError as exc:
                last = exc
                self._kill()
        self.stop()
        raise ServerError(f"postfix did not start: {last}\n{self.log()}")

    def _spawn(self) -> None:
        self.port = free_port()
        lines = [f"{k} = {v}\n" for k, v in self.main_cf().items()]
        files = {
            "main.cf": "".join(lines),
            "master.cf": MASTER_CF.format(host=self.host, port=self.port),
        }
        past = time.time() - 10
        for name, text in files.items():
            path = self.config_dir / name
            path.write_text(text)
            # Postfix re-reads a file modified in the last second ("let it cool
            # down", 0.3 s naps): ~2 s of startup. Backdate it instead.
            os.utime(path, (past, past))
        if self.check:
            self._run("postfix", "-c", str(self.config_dir), "check")
        (self.dir / "queue" / "quick-start").touch()  # start-fg skips its ~2 s of checks
        out = open(self.dir / "stdout.log", "ab")  # noqa: SIM115 - owned by the child
        try:
            self._proc = subprocess.Popen(
                ["postfix", "-c", str(self.config_dir), "start-fg"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        # the banner names our myhostname: the port is ours and smtpd really serves
        wait_for_banner(self.host, self.port, self.dir.name, self.start_timeout, self._proc)
        deadline = time.monotonic() + self.start_timeout
        while self._master_pid() is None:  # written just after the sockets are bound
            if time.monotonic() > deadline:
                raise ServerError("postfix master wrote no pid file")
            time.sleep(0.01)

    @property
    def master_pid(self) -> int | None:
        """Pid of the Postfix master; it leads the process group of all its daemons."""
        return self._master_pid() if self._proc is not None else None

    def _master_pid(self) -> int | None:
        try:
            return int((self.dir / MASTER_PID).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        master = self._master_pid()
        # `postfix stop` = SIGTERM to the master (its own session), which stops the rest
        subprocess.run(
            ["postfix", "-c", str(self.config_dir), "stop"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        kill_group(master, str(self.dir))  # no-op once it is gone
        if master is not None:  # its daemons exit on their own a moment later
            deadline = time.monotonic() + 3
            while group_pids(master) and time.monotonic() < deadline:
                time.sleep(0.01)
            if group_pids(master):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(master, signal.SIGKILL)
        terminate(proc)  # the start-fg shell

    def log(self) -> str:
        """The maillog (plus anything start-fg printed)."""
        parts = []
        for name in ("stdout.log", "maillog"):
            path = self.dir / name
            if path.is_file():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    # -- mail ------------------------------------------------------------

    def _run(self, *cmd: str) -> str:
        res = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        if res.returncode != 0:
            raise ServerError(
                f"{' '.join(cmd)} failed ({res.returncode}): "
                f"{(res.stdout + res.stderr).decode(errors='replace')}\n{self.log()}"
            )
        return res.stdout.decode(errors="replace")

    def send(
        self, raw: bytes, mail_from: str, rcpts: Sequence[str], *, timeout: float = 30.0
    ) -> dict[str, tuple[int, bytes]]:
        """Submit over SMTP; return the refused recipients (smtplib raises if all are)."""
        with smtplib.SMTP(self.host, self.port, timeout=timeout) as smtp:
            return smtp.sendmail(mail_from, list(rcpts), raw)

    def queue(self) -> list[dict[str, Any]]:
        """``postqueue -j``: one dict per queued mail (queue_name, queue_id, sender,
        recipients=[{address, delay_reason?}], ...)."""
        out = self._run("postqueue", "-c", str(self.config_dir), "-j")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def flush(self) -> None:
        """``postqueue -f``: retry all deferred mail now."""
        self._run("postqueue", "-c", str(self.config_dir), "-f")

    def wait_empty(self, timeout: float = 20.0) -> None:
        """Wait until every queued mail is delivered (or bounced)."""
        deadline = time.monotonic() + timeout
        while self.queue():
            if time.monotonic() > deadline:
                raise ServerError(f"queue not empty after {timeout}s: {self.queue()}")
            time.sleep(0.1)
