"""Real mail servers (Dovecot, Postfix) for Madoguchi's tests.

Each server runs as a child process with its own config in a fresh directory under
/tmp.  This package holds what both server classes share: free loopback ports,
waiting for a port, process-group teardown, an atexit safety net, and a reaper
for instances left behind by a test run that was killed (SIGKILL, OOM, ...).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

__all__ = [
    "LOOPBACK",
    "ServerError",
    "free_port",
    "make_workdir",
    "terminate",
    "wait_for_banner",
    "wait_for_port",
]

LOOPBACK = "127.0.0.1"
OWNER_FILE = "owner.pid"


class ServerError(RuntimeError):
    """A test server failed to start or a command against it failed."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_running: set[_Stoppable] = set()


def register(server: _Stoppable) -> None:
    _running.add(server)


def unregister(server: _Stoppable) -> None:
    _running.discard(server)


class ManagedServer:
    """What the Dovecot and Postfix helpers share: ``stop`` and the context manager.

    Subclasses give ``start``, ``_kill`` (end every process of the instance) and ``dir``.
    """

    dir: Path

    def start(self) -> Self:
        raise NotImplementedError

    def _kill(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every process of this server and remove its directory."""
        self._kill()
        unregister(self)
        if self.dir != Path() and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            server.stop()


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that was free a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until ``host:port`` accepts TCP connections; fail fast if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"process exited with {proc.returncode} before {host}:{port} opened")
        time.sleep(0.02)
    raise ServerError(f"{host}:{port} did not open within {timeout}s")


def wait_for_banner(
    host: str,
    port: int,
    marker: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until ``host:port`` greets with a line containing ``marker``.

    Stricter than an open port: the service really serves, and it is ours (not some
    other process that took the "free" port first).
    """
    wait_for_port(host, port, timeout, proc)
    deadline = time.monotonic() + timeout
    greeting = b""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                greeting = sock.makefile("rb").readline()
        except OSError:
            greeting = b""
        if marker.encode() in greeting:
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.02)
    raise ServerError(f"{host}:{port} greeted {greeting!r}, not with {marker!r}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill_group(pid: int | None, marker: str, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL, the process group led by ``pid``.

    Only if /proc shows that ``pid`` is still one of ours (``marker``, our work dir,
    is in its command line or working directory), so a recycled pid is never hit.
    """
    if pid is None or pid <= 1 or not is_ours(pid, marker):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not _alive(pid) or _zombie(pid):
                return
            time.sleep(0.02)


def is_ours(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return marker in cmdline or cwd.startswith(marker)


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def terminate(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the group led by ``proc``; SIGKILL what is left once the leader is gone.

    The leader is reaped only at the end, so its pid (= the group id) cannot be
    recycled while we signal the group.
    """
    if proc.returncode is None:
        # the whole group: Dovecot's master alone takes ~1 s to stop its children
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not _zombie(proc.pid):
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def make_workdir(prefix: str, master_pid_file: str) -> Path:
    """Create a 0755 work dir under /tmp, after reaping stale ones with the same prefix.

    A dir is stale when the test process recorded in ``owner.pid`` is gone: its
    server (master pid in ``master_pid_file``, relative to the dir) is killed and
    the dir removed.
    """
    for old in Path("/tmp").glob(f"{prefix}*"):
        owner = _read_pid(old / OWNER_FILE)
        if owner is not None and _alive(owner):
            continue
        try:
            if owner is None and time.time() - old.stat().st_mtime < 60:
                continue  # being created right now by someone else
        except OSError:
            continue  # just removed by its owner or another reaper
        kill_group(_read_pid(old / master_pid_file), str(old))
        shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    (path / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return path
