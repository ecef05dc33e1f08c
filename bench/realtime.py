"""Live updates at scale: time from a change to the last of N WebSocket agents seeing it.

For each N (default 100, 1,000 and 2,000) and each database, on a fresh database with N
agents who are all members of one mailbox, it starts one ``madoguchi run web`` process,
connects N WebSocket clients to ``/live?after=<id>`` (signed in with real session
cookies, in batches, all in this process), waits until every one got its
``presence_all``, and then:

- ``http``: K changes made by one agent clicking, i.e. HTTP POSTs to the web process
  (alternately ``/c/<id>/note`` and ``/c/<id>/status``), spaced ``--spacing`` apart;
- ``other process``: changes committed by this process (``conversations.actions.add_note``
  against the same database), which reach the web process through polling on SQLite
  (``MADOGUCHI_LIVE_POLL_SECONDS``) and LISTEN/NOTIFY on PostgreSQL.

For every change, t0 is taken right before the POST (or the ``add_note`` call) and every
client notes when the event arrives. It prints, over all (change, agent) pairs, p50 and
p99 of the latency; over changes, p50 and p99 of the time until the last (and the first)
agent saw it; deliveries missing; the server's RSS before and after the N connections, per
connection; the server's and this process's CPU time per change, and the web process's
garbage-collector pauses (it runs ``madoguchi.cli.main(["run", "web"])`` through
``--serve``, which only adds a ``gc.callbacks`` hook).

As a yardstick the same clients are first run against two bare broadcast servers that do
nothing else: ``websockets`` (its own server) and a raw ASGI app under uvicorn (the server
stack Madoguchi runs on, without Django, Channels or the hub). ``--no-reference`` skips it.

The clients offer permessage-deflate as browsers do (``--no-compression``: they do not).
They are a minimal RFC 6455 client on an asyncio Protocol (``--client raw``, the default),
timing each message in ``data_received``; websockets' asyncio client (``--client asyncio``)
costs this process 1.5-2x the CPU per message (at 2,000 clients ~65 instead of ~35 ms per
change, as much as a bare server spends), which would be counted as the server's latency.
Both run on uvloop (``--loop``). Two cores are shared by the clients, the web process and
the database; each phase prints how busy the machine was and the web process's GC pauses.

    python bench/realtime.py [--n 100,1000,2000] [--db sqlite,postgres] [--changes 30]
        [--spacing 0.3] [--cross 10] [--no-reference] [--no-compression]

``BENCH_PROFILE=1`` also prints a cProfile of the web process's event loop during the HTTP
changes (cProfile slows it, so the latencies of that run are not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "bench_realtime"
SECRET = "bench-realtime-not-secret-" + "k" * 40
RESULT = "RESULT "
#: A message like the product's ``note.added`` event, for the reference servers.
SAMPLE = {
    "type": "event",
    "id": 0,
    "event": "note.added",
    "mailbox": 1,
    "conversation": 1,
    "actor": 2001,
    "actor_name": "操作 太郎",
    "data": {"note": 0},
}
HELLO = json.dumps({"type": "presence_all", "items": {}})


# --- small helpers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"server not listening on {port} after {timeout} s:\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(text[-lines:])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time all processes of the machine used since boot (busy, not idle or iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def warnings_in(log: Path) -> list[str]:
    """Warning and error lines of a server log (uvicorn's and Madoguchi's formats)."""
    marks = ("WARNING", "ERROR", "Traceback", "CRITICAL", "Exception")
    return [line for line in tail(log, 10**9).splitlines() if any(m in line for m in marks)]


# --- the clients ------------------------------------------------------------------------


@dataclass(frozen=True)
class How:
    """How the clients connect: ``raw`` (a minimal RFC 6455 client on a bare asyncio
    Protocol, a few microseconds a message, so that the clients' cost stays small next to
    the server's) or ``asyncio`` (websockets' asyncio client, a task and a queue per
    connection, ~50 us a message); whether they offer permessage-deflate (browsers do)."""

    client: str = "raw"
    compression: bool = True


class Tab:
    """One agent's connection; ``got`` is every message after ``presence_all``, timed."""

    def __init__(self) -> None:
        self.got: list[tuple[float, str]] = []

    def arrivals(self) -> dict[int, float]:
        """Event id -> when it arrived (first arrival)."""
        seen: dict[int, float] = {}
        for at, message in self.got:
            if message.startswith('{"type":"event"'):
                seen.setdefault(json.loads(message)["id"], at)
        return seen

    async def send(self, text: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class AsyncioTab(Tab):
    def __init__(self, ws: Any) -> None:
        super().__init__()
        self.ws = ws
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        clock = time.perf_counter
        with contextlib.suppress(Exception):
            async for message in self.ws:
                self.got.append((clock(), str(message)))

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.transport.abort()
        with contextlib.suppress(Exception):
            await self.task


class RawTab(Tab, asyncio.Protocol):
    """The client side of RFC 6455 and RFC 7692, just what /live needs, timed on arrival."""

    def __init__(self, url: str, headers: dict[str, str], compression: bool) -> None:
        super().__init__()
        _, _, host, path = url.split("/", 3)
        lines = [f"GET /{path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Version: 13",
                 f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
                 *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        if compression:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._open = False
        self._inflate: Any = None
        self._fresh_context = False  # server_no_context_takeover
        self._parts: list[bytes] = []
        self._compressed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before presence_all"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self._buf
        buf += data
        if not self._open and not self._handshake():
            return
        while len(buf) >= 2:
            length, start = buf[1] & 0x7F, 2
            if length >= 126:
                start = 4 if length == 126 else 10
                if len(buf) < start:
                    return
                length = int.from_bytes(buf[2:start], "big")
            if len(buf) < start + length:
                return
            head, payload = buf[0], bytes(buf[start : start + length])
            del buf[: start + length]
            opcode = head & 0x0F
            if opcode in (0x1, 0x0):  # text, continuation
                if opcode == 0x1:
                    self._compressed, self._parts = bool(head & 0x40), []
                self._parts.append(payload)
                if head & 0x80:  # fin
                    self._message(now, b"".join(self._parts))
            elif opcode == 0x9:  # ping
                self._write(0xA, payload)
            elif opcode == 0x8:  # close
                self._write(0x8, payload[:2])
                self.transport.close()  # type: ignore[union-attr]

    def _handshake(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buf[:end]).decode("latin-1").lower()
        del self._buf[: end + 4]
        status = head.split(" ", 2)[1]
        if status != "101":
            self.ready.set_exception(ConnectionError(f"HTTP {status}"))
            self.transport.close()  # type: ignore[union-attr]
            return False
        extensions = "".join(
            line for line in head.splitlines() if line.startswith("sec-websocket-extensions:")
        )
        if "permessage-deflate" in extensions:
            self._inflate = zlib.decompressobj(-15)  # reads any window the server chose
            self._fresh_context = "server_no_context_takeover" in extensions
        self._open = True
        return True

    def _message(self, now: float, data: bytes) -> None:
        if self._compressed:
            if self._fresh_context:
                self._inflate = zlib.decompressobj(-15)
            data = self._inflate.decompress(data + b"\x00\x00\xff\xff")
        text = data.decode()
        if self.ready.done():
            self.got.append((now, text))
        elif text.startswith('{"type": "presence_all"'):
            self.ready.set_result(None)

    def _write(self, opcode: int, payload: bytes) -> None:
        """One masked frame (clients must mask), never compressed."""
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)  # type: ignore[union-attr]

    async def send(self, text: str) -> None:
        self._write(0x1, text.encode())

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_tab(url: str, headers: dict[str, str], how: How) -> Tab:
    if how.client == "raw":
        loop = asyncio.get_running_loop()
        host, port = url.split("/")[2].split(":")
        _, tab = await asyncio.wait_for(
            loop.create_connection(lambda: RawTab(url, headers, how.compression), host, port),
            120,
        )
        await asyncio.wait_for(tab.ready, 120)
        return tab
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        additional_headers=headers,
        open_timeout=120,
        ping_interval=None,
        close_timeout=2,
        proxy=None,
        compression="deflate" if how.compression else None,
    )
    while not str(await asyncio.wait_for(ws.recv(), 120)).startswith('{"type": "presence_all"'):
        pass  # a replay comes first only with a stale ?after
    return AsyncioTab(ws)


async def open_tabs(
    url: str, cookies: list[str | None], origin: str, batch: int, how: How
) -> tuple[list[Tab], list[str]]:
    tabs: list[Tab] = []
    errors: list[str] = []
    for start in range(0, len(cookies), batch):
        heads = [
            {"Origin": origin, **({"Cookie": c} if c else {})}
            for c in cookies[start : start + batch]
        ]
        done = await asyncio.gather(*(open_tab(url, h, how) for h in heads), return_exceptions=True)
        for item in done:
            if isinstance(item, BaseException):
                errors.append(f"{type(item).__name__}: {item}")
            else:
                tabs.append(item)
    return tabs, errors


async def close_tabs(tabs: list[Tab]) -> None:
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)


async def wait_for_deliveries(tabs: list[Tab], expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(t.got) >= expected for t in tabs):
            return
        await asyncio.sleep(0.05)


@dataclass
class Change:
    t0: float
    key: int  # the event id (set once known)
    post_ms: float = math.nan  # how long the POST (or add_note) took


def summarize(tabs: list[Tab], changes: list[Change], n: int) -> dict[str, Any]:
    arrivals = [t.arrivals() for t in tabs]
    every: list[float] = []
    last: list[float] = []
    first: list[float] = []
    slow: list[tuple[float, float, float, int]] = []  # (last, first, POST ms, change index)
    missing = n * len(changes) - len(tabs) * len(changes)  # tabs that never connected
    for k, change in enumerate(changes):
        seen = [(a[change.key] - change.t0) * 1000 for a in arrivals if change.key in a]
        missing += len(tabs) - len(seen)
        every += seen
        if seen:
            last.append(max(seen))
            first.append(min(seen))
            slow.append((max(seen), min(seen), change.post_ms, k))
    posts = [c.post_ms for c in changes if not math.isnan(c.post_ms)]
    return {
        "changes": len(changes),
        "p50": pct(every, 0.5),
        "p99": pct(every, 0.99),
        "last_p50": pct(last, 0.5),
        "last_p99": pct(last, 0.99),
        "last_max": pct(last, 1),
        "first_p50": pct(first, 0.5),
        "post_p50": pct(posts, 0.5),
        "post_max": pct(posts, 1),
        "missing": missing,
        "pairs": n * len(changes),
        "slowest": sorted(slow, reverse=True)[:3],
    }


def print_phase(label: str, r: dict[str, float]) -> None:
    post = "" if math.isnan(r["post_p50"]) else f"  call/POST p50 {r['post_p50']:5.1f} ms"
    print(
        f"    {label:<14} {r['changes']:>3.0f} changes  each agent p50 {r['p50']:6.1f} "
        f"p99 {r['p99']:6.1f} ms | last agent p50 {r['last_p50']:6.1f} p99 {r['last_p99']:6.1f} "
        f"max {r['last_max']:6.1f} ms | first agent p50 {r['first_p50']:6.1f} ms | "
        f"missing {r['missing']:.0f}/{r['pairs']:.0f}{post} | server CPU "
        f"{r['server_cpu_ms']:5.1f} ms/change, bench {r['bench_cpu_ms']:5.1f} ms/change",
        flush=True,
    )
    slowest = ", ".join(
        f"#{k} last {la:.0f} first {fi:.0f}" + ("" if math.isnan(po) else f" call {po:.0f}")
        for la, fi, po, k in r["slowest"]
    )
    print(f"      slowest changes (ms): {slowest}", flush=True)
    if r.get("gc"):
        print(f"      {describe_gc(r['gc'])}", flush=True)
    print(
        f"      machine {r['machine_busy']:.0%} busy; every other process (database included) "
        f"{r['others_cpu_ms']:.1f} ms/change; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )


async def timed_changes(
    count: int, spacing: float, make: Any, jitter: bool, pid: int
) -> tuple[list[Change], float, float]:
    """Run ``count`` changes made by ``make(k)``; the changes and CPU times at the start."""
    rng = random.Random(7)
    server_cpu, bench_cpu = cpu_seconds(pid), time.process_time()
    changes = []
    for k in range(count):
        changes.append(await make(k))
        await asyncio.sleep(spacing * (rng.uniform(0.5, 1.5) if jitter else 1))
    return changes, server_cpu, bench_cpu


# --- one run against one server ---------------------------------------------------------


async def measure(
    *,
    label: str,
    base: str,
    pid: int,
    cookies: list[str | None],
    args: argparse.Namespace,
    warm: Any,
    phases: list[tuple[str, int, Any, Any, bool]],
    watch: Path | None = None,
) -> dict[str, Any]:
    """Connect the tabs, run each phase (name, count, make, resolve, jitter), print."""
    n = len(cookies)
    await warm()
    await asyncio.sleep(0.5)
    before = rss_kib(pid)
    started = time.perf_counter()
    how = How(args.client, not args.no_compression)
    url = base.replace("http://", "ws://") + "/live" + (await args.after())
    await watch_start(watch, pid, "connect")
    tabs, errors = await open_tabs(url, cookies, base, args.batch, how)
    connect_s = time.perf_counter() - started
    pauses = await watch_stop(watch, pid)
    await asyncio.sleep(1.0)
    after = rss_kib(pid)
    per_conn = (after - before) / max(len(tabs), 1)
    print(
        f"  {label} N={n:,}: {len(tabs):,} connected in {connect_s:.1f} s "
        f"({len(tabs) / connect_s:.0f}/s)  server RSS {before / 1024:.1f} -> "
        f"{after / 1024:.1f} MiB = {per_conn:.1f} KiB per connection",
        flush=True,
    )
    for error in sorted(set(errors))[:5]:
        print(f"    connect error ({errors.count(error)}x): {error}", flush=True)
    if pauses:
        print(f"    while connecting, {describe_gc(pauses)}", flush=True)
    result: dict[str, Any] = {
        "label": label,
        "n": n,
        "connected": len(tabs),
        "connect_s": connect_s,
        "kib_per_conn": per_conn,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "connect_gc": pauses,
    }
    for name, count, make, resolve, jitter in phases:
        if count <= 0:
            continue
        await watch_start(watch, pid, name)
        for tab in tabs:
            tab.got = []
        gc.collect()
        gc.disable()  # no collector pause in the clients while they time arrivals
        try:
            machine_cpu, began = machine_cpu_seconds(), time.perf_counter()
            changes, server_cpu, bench_cpu = await timed_changes(
                count, args.spacing, make, jitter, pid
            )
            expected = await resolve(changes)
            await wait_for_deliveries(tabs, expected, timeout=15)
            server_cpu = cpu_seconds(pid) - server_cpu
            bench_cpu = time.process_time() - bench_cpu
            machine_cpu = machine_cpu_seconds() - machine_cpu
            elapsed = time.perf_counter() - began
        finally:
            gc.enable()
        gc_pauses = await watch_stop(watch, pid)
        r = summarize(tabs, changes, n)
        r["gc"] = gc_pauses
        r["server_cpu_ms"] = server_cpu * 1000 / count
        r["bench_cpu_ms"] = bench_cpu * 1000 / count
        r["others_cpu_ms"] = (machine_cpu - server_cpu - bench_cpu) * 1000 / count
        r["machine_busy"] = machine_cpu / (elapsed * (os.cpu_count() or 1))
        print_phase(name, r)
        result[name] = r
    result["rss_end_mib"] = rss_kib(pid) / 1024
    await close_tabs(tabs)
    return result


# --- Madoguchi ---------------------------------------------------------------------------


@dataclass
class Team:
    mailbox_id: int
    conv_id: int
    actor_id: int
    actor_cookie: str
    cookies: list[str]


def populate(n: int) -> Team:
    """One mailbox, one conversation, n member agents and a signed-in session for each."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from tests.mail_in.helpers import deliver
    from tests.mailmaker import make_mail

    from madoguchi.accounts.actions import add_member, create_agent
    from madoguchi.accounts.models import Agent, Membership
    from madoguchi.mailboxes.actions import create_mailbox

    mailbox = create_mailbox("support@example.jp", name="サポート窓口")
    actor = create_agent("actor", password="pw-actor-123", display_name="操作 太郎")
    add_member(mailbox, actor.user)
    mail = make_mail(subject="納期について", message_id="bench-realtime@customer.example")
    message = deliver(mailbox, mail)
    assert message is not None
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    with transaction.atomic():
        User.objects.bulk_create(
            User(username=f"agent{i:05}", password=make_password(None)) for i in range(n)
        )
        users = list(User.objects.filter(username__startswith="agent").order_by("username"))
        Agent.objects.bulk_create(
            Agent(user=u, display_name=f"担当 {i}") for i, u in enumerate(users)
        )
        Membership.objects.bulk_create(Membership(mailbox=mailbox, user=u) for u in users)
        keys, sessions = [], []
        for user in [actor.user, *users]:
            key = get_random_string(32, VALID_KEY_CHARS)
            data = {
                SESSION_KEY: str(user.pk),
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            }
            sessions.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expires)
            )
            keys.append(f"{settings.SESSION_COOKIE_NAME}={key}")
        Session.objects.bulk_create(sessions, batch_size=500)
    return Team(mailbox.pk, message.conversation_id, actor.user.pk, keys[0], keys[1:])


class Poster:
    """The acting agent: a signed-in HTTP session (pages, CSRF cookie) with the web process."""

    def __init__(self, base: str, team: Team) -> None:
        import requests

        self.base, self.team = base, team
        self.http = requests.Session()
        self.http.trust_env = False
        name, _, value = team.actor_cookie.partition("=")
        self.http.cookies.set(name, value)
        page = self.http.get(f"{base}/c/{team.conv_id}/")
        page.raise_for_status()
        self.token = self.http.cookies.get("csrftoken", "")

    def change(self, k: int) -> tuple[Change, str]:
        """Note on even k, status (hold/open alternately) on odd k; the event type to expect."""
        from madoguchi.conversations.models import Conversation

        if k % 2 == 0:
            path, data, kind = "note", {"note": f"ベンチのメモ {k}"}, "note.added"
        else:
            now = Conversation.objects.values_list("status", flat=True).get(pk=self.team.conv_id)
            path, data = "status", {"status": "open" if now == "hold" else "hold"}
            kind = "conversation.status"
        url = f"{self.base}/c/{self.team.conv_id}/{path}"
        t0 = time.perf_counter()
        response = self.http.post(
            url, data=data, headers={"X-CSRFToken": self.token}, allow_redirects=False
        )
        took = (time.perf_counter() - t0) * 1000
        if response.status_code != 302:
            print(f"    POST {path} answered {response.status_code}", flush=True)
        return Change(t0, 0, took), kind


def other_process_note(team: Team, k: int) -> Change:
    from madoguchi.conversations import actions
    from madoguchi.conversations.models import Conversation

    conv = Conversation.objects.get(pk=team.conv_id)
    t0 = time.perf_counter()
    note = actions.add_note(conv, author_id=team.actor_id, text=f"別プロセスのメモ {k}")
    change = Change(t0, 0, (time.perf_counter() - t0) * 1000)
    change.key = -note.pk  # resolved to the event id afterwards
    return change


def events_since(after: int, mailbox_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    from madoguchi.core.models import Event

    rows = Event.objects.filter(id__gt=after, mailbox_id=mailbox_id).order_by("id")
    return list(rows.values_list("id", "type", "data"))


def top_event() -> int:
    from django.db.models import Max

    from madoguchi.core.models import Event

    return int(Event.objects.aggregate(top=Max("id"))["top"] or 0)


def run_madoguchi(db: str, n: int, team: Team, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix=f"madoguchi-bench-realtime-{db}-{n}-", suffix=".log")[1])
    env = {**os.environ, "MADOGUCHI_WEB_BIND": f"127.0.0.1:{port}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    watch = log.with_suffix(".gc.json")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(watch), "run", "web"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-db")
    try:
        wait_port(port, proc, log)
        result = asyncio.run(
            _madoguchi(
                db=db,
                n=n,
                base=base,
                pid=proc.pid,
                team=team,
                args=args,
                pool=db_thread,
                watch=watch,
            )
        )
    except BaseException:
        print(f"  server log tail ({log}):\n{tail(log)}", flush=True)
        raise
    finally:
        stop(proc)
        db_thread.shutdown()
    found = warnings_in(log)
    if found:
        print(f"    server log: {len(found)} warning/error lines ({log}), first ones:", flush=True)
        for line in found[:8]:
            print(f"      {line}", flush=True)
    else:
        log.unlink()
    result["log_warnings"] = len(found)
    for suffix in (".gc.json", ".gc.phase", ".gc.prof"):
        log.with_suffix(suffix).unlink(missing_ok=True)
    return result


async def _madoguchi(
    *,
    db: str,
    n: int,
    base: str,
    pid: int,
    team: Team,
    args: argparse.Namespace,
    pool: ThreadPoolExecutor,
    watch: Path,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()

    async def in_db(fn: Any, *a: Any) -> Any:
        return await loop.run_in_executor(pool, fn, *a)

    poster: list[Poster] = []
    kinds: list[str] = []
    mark = [0]

    async def warm() -> None:
        poster.append(await in_db(Poster, base, team))
        url = base.replace("http", "ws") + "/live"
        tabs, errors = await open_tabs(url, [team.actor_cookie], base, 1, How(args.client))
        if errors:
            raise SystemExit(f"the actor cannot connect: {errors[0]}")
        await in_db(poster[0].change, 0)  # the first note warms the views and the hub
        await asyncio.sleep(0.3)
        await close_tabs(tabs)

    async def after() -> str:
        return f"?after={await in_db(top_event)}"

    async def post(k: int) -> Change:
        if k == 0:
            mark[0] = await in_db(top_event)
            kinds.clear()
        change, kind = await in_db(poster[0].change, k)
        kinds.append(kind)
        return change

    async def resolve_posts(changes: list[Change]) -> int:
        rows = await in_db(events_since, mark[0], team.mailbox_id)
        it = iter(rows)
        for change, kind in zip(changes, kinds, strict=True):
            change.key = next((eid for eid, typ, _ in it if typ == kind), -1)
        if len(rows) != len(changes):
            print(f"    note: {len(rows)} events for {len(changes)} changes", flush=True)
        return len(rows)

    async def note(k: int) -> Change:
        if k == 0:
            mark[0] = await in_db(top_event)
        return await in_db(other_process_note, team, k)

    async def resolve_notes(changes: list[Change]) -> int:
        rows = await in_db(events_since, mark[0], team.mailbox_id)
        by_note = {data.get("note"): eid for eid, typ, data in rows if typ == "note.added"}
        for change in changes:
            change.key = by_note.get(-change.key, -1)
        return len(rows)

    return await measure(
        label=db,
        base=base,
        pid=pid,
        cookies=list(team.cookies[:n]),
        args=argparse.Namespace(**vars(args), after=after),
        warm=warm,
        watch=watch,
        phases=[
            ("http", args.changes, post, resolve_posts, False),
            ("other process", args.cross, note, resolve_notes, True),
        ],
    )


def serve(watch: Path, argv: list[str]) -> None:
    """The web process: ``madoguchi`` (its own ``main``) plus a record of the garbage
    collector's pauses between SIGUSR1 and SIGUSR2, written to ``watch``; with
    BENCH_PROFILE=1, a cProfile of the event loop thread during the HTTP changes."""
    import cProfile

    from madoguchi.cli import main as madoguchi

    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    state = {"began": 0.0, "on": False, "name": ""}

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            state["began"] = time.perf_counter()
        elif state["on"]:
            pauses[info["generation"]].append((time.perf_counter() - state["began"]) * 1000)

    def start(*_: object) -> None:
        state["name"] = watch.with_suffix(".phase").read_text()
        for gen in pauses.values():
            gen.clear()
        state["on"] = True
        if profile and state["name"] == "http":
            profile.enable()

    def finish(*_: object) -> None:
        state["on"] = False
        if profile and state["name"] == "http":
            profile.disable()
            profile.dump_stats(watch.with_suffix(".prof"))
        watch.with_suffix(".tmp").write_text(json.dumps(pauses))
        watch.with_suffix(".tmp").rename(watch)

    gc.callbacks.append(collected)
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, finish)
    sys.exit(madoguchi(argv))


async def watch_start(watch: Path | None, pid: int, name: str) -> None:
    if watch is not None:
        watch.unlink(missing_ok=True)
        watch.with_suffix(".phase").write_text(name)
        os.kill(pid, signal.SIGUSR1)
        await asyncio.sleep(0.05)


async def watch_stop(watch: Path | None, pid: int) -> dict[str, list[float]]:
    """The web process's collector pauses (ms by generation) since ``watch_start``."""
    if watch is None:
        return {}
    os.kill(pid, signal.SIGUSR2)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if watch.exists():
            pauses = json.loads(watch.read_text())
            profile = watch.with_suffix(".prof")
            if profile.exists() and watch.with_suffix(".phase").read_text() == "http":
                print_profile(str(profile))
            return dict(pauses)
    return {}


def describe_gc(pauses: dict[str, list[float]]) -> str:
    parts = [f"gen{g} {len(v)}x max {max(v, default=0):.0f} ms" for g, v in sorted(pauses.items())]
    return "server GC pauses: " + ", ".join(parts)


def print_profile(path: str) -> None:
    import pstats

    print(f"    profile of the web process's main thread ({path}), by own time:", flush=True)
    pstats.Stats(path, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    pstats.Stats(path, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


def child_db(db: str, args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    sizes = [int(x) for x in args.n.split(",")]
    started = time.perf_counter()
    team = populate(max(sizes))
    print(f"  {db}: {max(sizes):,} agents with sessions in {time.perf_counter() - started:.1f} s")
    for n in sizes:
        print(RESULT + json.dumps(run_madoguchi(db, n, team, args)), flush=True)


# --- the reference servers ---------------------------------------------------------------


def payload(k: int) -> str:
    return json.dumps(
        {**SAMPLE, "id": k, "data": {"note": k}}, ensure_ascii=False, separators=(",", ":")
    )


async def serve_websockets(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        await ws.send(HELLO)
        clients.add(ws)
        try:
            async for message in ws:
                if message.startswith("go "):
                    broadcast(clients, payload(int(message[3:])))
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", port, ping_interval=None) as server:
        await server.serve_forever()


def asgi_broadcast_app() -> Any:
    sends: set[Any] = set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": HELLO})
        sends.add(send)
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                if (message.get("text") or "").startswith("go "):
                    text = payload(int(message["text"][3:]))
                    for other in list(sends):
                        with contextlib.suppress(Exception):
                            await other({"type": "websocket.send", "text": text})
        finally:
            sends.discard(send)

    return app


def reference_server(kind: str, port: int) -> None:
    if kind == "websockets":
        asyncio.run(serve_websockets(port))
    else:
        import uvicorn

        uvicorn.run(
            asgi_broadcast_app(), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )


def run_reference(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix=f"madoguchi-bench-realtime-{kind}-", suffix=".log")[1])
    cmd = [sys.executable, __file__, "--reference-server", kind, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_port(port, proc, log)
        result = asyncio.run(_reference(kind, n, base, proc.pid, args))
    except BaseException:
        print(f"  server log tail ({log}):\n{tail(log)}", flush=True)
        raise
    finally:
        stop(proc)
    log.unlink()
    return result


async def _reference(
    kind: str, n: int, base: str, pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    control: list[Tab] = []

    async def warm() -> None:
        url = base.replace("http", "ws") + "/live"
        tabs, _ = await open_tabs(url, [None], base, 1, How(args.client, compression=False))
        control.extend(tabs)  # it keeps reading (and dropping) what is broadcast
        await control[0].send("go -1")

    async def after() -> str:
        return ""

    async def go(k: int) -> Change:
        control[0].got.clear()
        t0 = time.perf_counter()
        await control[0].send(f"go {k}")
        return Change(t0, k)

    async def resolve(changes: list[Change]) -> int:
        return len(changes)

    try:
        return await measure(
            label=f"bare {kind}",
            base=base,
            pid=pid,
            cookies=[None] * n,
            args=argparse.Namespace(**vars(args), after=after),
            warm=warm,
            phases=[("broadcast", args.changes, go, resolve, False)],
        )
    finally:
        await close_tabs(control)


def child_reference(args: argparse.Namespace) -> None:
    for n in [int(x) for x in args.n.split(",")]:
        for kind in ("websockets", "uvicorn"):
            print(RESULT + json.dumps(run_reference(kind, n, args)), flush=True)


# --- driver ------------------------------------------------------------------------------


def run_child(kind: str, args: argparse.Namespace, argv: list[str]) -> list[dict[str, Any]]:
    data = Path(tempfile.mkdtemp(prefix="madoguchi-bench-realtime-"))
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(data),
        "MADOGUCHI_SECRET_KEY": SECRET,
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
        "MADOGUCHI_LOG_LEVEL": "INFO",
    }
    env.pop("MADOGUCHI_DATABASE_URL", None)
    # the web process runs the code beside this script, whatever else is installed
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_NAME} ENCODING 'UTF8' TEMPLATE template0")
        env["MADOGUCHI_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
    results = []
    try:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, *argv],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT):
                results.append({"db": kind, **json.loads(line[len(RESULT) :])})
            else:
                print(line, end="", flush=True)
        if proc.wait():
            print(f"{kind}: the run failed (exit {proc.returncode})", flush=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if kind == "postgres":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
    return results


def print_summary(results: list[dict[str, Any]]) -> None:
    print(
        "\nsummary (ms; 'last' = until the last agent saw the change; KiB = server RSS per "
        "connection; CPU = server CPU per change; busy = both cores; GC max = longest pause of "
        "the web process's garbage collector during the changes)"
    )
    head = (
        f"{'server':<17} {'path':<14} {'N':>5} {'p50':>7} {'p99':>7} {'last p50':>8} "
        f"{'last p99':>8} {'first p50':>9} {'missing':>11} {'KiB/conn':>8} {'CPU/chg':>7} "
        f"{'busy':>4} {'GC max':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        for path in ("broadcast", "http", "other process"):
            if path not in r:
                continue
            p = r[path]
            missing = f"{p['missing']:.0f}/{p['pairs']:.0f}"
            pauses = [ms for gen in p["gc"].values() for ms in gen]
            gc_max = f"{max(pauses, default=0):.0f}" if p["gc"] else "-"
            print(
                f"{r['label']:<17} {path:<14} {r['n']:>5} {p['p50']:>7.1f} {p['p99']:>7.1f} "
                f"{p['last_p50']:>8.1f} {p['last_p99']:>8.1f} {p['first_p50']:>9.1f} "
                f"{missing:>11} {r['kib_per_conn']:>8.1f} {p['server_cpu_ms']:>7.1f} "
                f"{p['machine_busy']:>4.0%} {gc_max:>6}"
            )


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:  # the web process: madoguchi, watched
        serve(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="100,1000,2000", help="numbers of agents connected")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--changes", type=int, default=30, help="changes over HTTP per run")
    parser.add_argument("--cross", type=int, default=10, help="changes by another process")
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between changes")
    parser.add_argument("--batch", type=int, default=50, help="connections opened at once")
    parser.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first measure bare broadcast servers with the same clients",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do)",
    )
    parser.add_argument(
        "--client",
        choices=["raw", "asyncio"],
        default="raw",
        help="a minimal WebSocket client on an asyncio Protocol, or websockets' asyncio client",
    )
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default="uvloop", help="the clients' event loop"
    )
    parser.add_argument("--child")
    parser.add_argument("--reference-server")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.reference_server:
        reference_server(args.reference_server, args.port)
        return
    if set(args.db.split(",")) - {"sqlite", "postgres"}:
        parser.error("--db takes sqlite, postgres or both")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.child:
        if args.loop == "uvloop":
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        if args.child == "reference":
            child_reference(args)
        else:
            child_db(args.child, args)
        return
    argv = [
        "--n",
        args.n,
        "--changes",
        str(args.changes),
        "--cross",
        str(args.cross),
        "--spacing",
        str(args.spacing),
        "--batch",
        str(args.batch),
        "--loop",
        args.loop,
        "--client",
        args.client,
        *(["--no-compression"] if args.no_compression else []),
    ]
    print(
        f"clients: websockets {_version('websockets')} {args.client} on {args.loop}, "
        f"compression {'off' if args.no_compression else 'permessage-deflate'}; "
        f"{os.cpu_count()} cores; open files {hard}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for kind in (["reference"] if args.reference else []) + args.db.split(","):
        print(f"{kind}:", flush=True)
        results += run_child(kind, args, argv)
    print_summary(results)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
