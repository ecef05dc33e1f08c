"""One per web process: follows the event log and hands each row to the tabs that may see it.

The ``Event`` table is the bus (docs/decisions/0003-live-updates.md). Every action writes
its events in its own transaction and rings a doorbell (``core.events.announce``); the hub
wakes, reads the new rows in one query whatever the number of tabs, serializes each once
and puts it on the queue of every tab whose agent may see the row's mailbox. Rows written
by other processes wake it through PostgreSQL's ``NOTIFY``, or at the latest after
``MADOGUCHI_LIVE_POLL_SECONDS``. Presence travels the same way through ``Pulse`` rows.

All database work runs in one dedicated thread, so the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Protocol, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.db.models import Max
from django.utils import timezone

from madoguchi.core import event_types
from madoguchi.core import events as event_log
from madoguchi.core.event_types import EventType
from madoguchi.core.models import Event
from madoguchi.live.memory import Freezer
from madoguchi.live.models import Pulse
from madoguchi.live.presence import EXPIRE_SECONDS, GONE, REFRESH_SECONDS, Presence, Seen
from madoguchi.live.sessions import CHECK_SECONDS, ended
from madoguchi.live.tail import Tail

log = logging.getLogger("madoguchi.live")
T = TypeVar("T")

#: Event types after which who may see which mailbox is computed again.
ACCESS_EVENTS = event_types.ACCESS_CHANGING
#: Events meant for one agent (``data["to"]``), not for everyone who sees the mailbox.
NOTIFICATION = EventType.NOTIFICATION_CREATED.value
#: A session signed out (``live.actions.end_session``): its sockets close.
SESSION_ENDED = EventType.SESSION_ENDED.value
#: Close code for a socket whose session ended (the page does not reconnect).
CLOSE_SIGNED_OUT = 4401
EVENT_FIELDS = ("id", "type", "mailbox_id", "conversation_id", "actor_id", "data")
PULSE_FIELDS = ("id", "origin", "tab", "agent_id", "name", "mailbox_id", "conversation_id",
                "state", "created_at")  # fmt: skip
BATCH = 1000
PULSE_KEEP = timedelta(minutes=3)


class Tab(Protocol):
    """One browser tab's connection, as the hub sees it (``consumers.LiveConsumer``)."""

    key: str
    agent_id: int
    name: str
    mailboxes: frozenset[int]
    session_key: str
    session: str  # sessions.fingerprint(session_key)

    def push(self, text: str) -> None: ...

    def shut(self, code: int = ...) -> None: ...


def event_payload(row: dict[str, Any], actor_name: str) -> str:
    """The JSON a tab receives for one event: ids and small facts, never mail content."""
    return json.dumps(
        {"type": "event", "id": row["id"], "event": row["type"], "mailbox": row["mailbox_id"],
         "conversation": row["conversation_id"], "actor": row["actor_id"],
         "actor_name": actor_name, "data": row["data"]},
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip


def presence_payload(conversation_id: int, agents: list[dict[str, object]]) -> str:
    return json.dumps(
        {"type": "presence", "conversation": conversation_id, "agents": agents},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def names_of(user_ids: set[int]) -> dict[int, str]:
    """Display names of agents, as the inbox shows them."""
    from django.contrib.auth.models import User

    found = User.objects.filter(pk__in=user_ids).select_related("agent")
    return {u.pk: (u.agent.name if hasattr(u, "agent") else u.get_username()) for u in found}


def access_of(user_ids: set[int]) -> dict[int, frozenset[int] | None]:
    """The mailboxes each agent may see now; None for one who may no longer sign in."""
    from django.contrib.auth.models import User

    from madoguchi.mailboxes.queries import visible_mailboxes

    result: dict[int, frozenset[int] | None] = {}
    for user in User.objects.filter(pk__in=user_ids).select_related("agent"):
        ok = user.is_active and hasattr(user, "agent")
        result[user.pk] = (
            frozenset(visible_mailboxes(user).values_list("pk", flat=True)) if ok else None
        )
    for missing in user_ids - result.keys():
        result[missing] = None
    return result


@dataclass
class Batch:
    """What one read of the log found (built in the database thread)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    pulses: list[dict[str, Any]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    access: dict[int, frozenset[int] | None] = field(default_factory=dict)


class Hub:
    _instance: ClassVar[Hub | None] = None

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.origin = uuid.uuid4().hex
        self.tabs: dict[str, Tab] = {}
        self.by_mailbox: dict[int, set[str]] = defaultdict(set)
        self.presence = Presence()
        self.names: dict[int, str] = {}
        self._bell = asyncio.Event()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-db")
        self._events = Tail(0)
        self._pulses = Tail(0)
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- life -------------------------------------------------------------------------

    @classmethod
    async def get(cls) -> Hub:
        """This process's hub, started on first use in the running loop."""
        loop = asyncio.get_running_loop()
        hub = cls._instance
        if hub is None or hub.loop is not loop:
            hub = cls._instance = Hub(loop)
            hub.start()
        await hub._ready.wait()
        return hub

    def start(self) -> None:
        event_log.subscribe(self.ring)
        self._tasks.append(self.loop.create_task(self._follow()))
        if connection.vendor == "postgresql":
            self._tasks.append(self.loop.create_task(self._listen()))

    def ring(self) -> None:
        """Wake the follower; safe from any thread (called after each commit)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to wake
            self.loop.call_soon_threadsafe(self._bell.set)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in the hub's database thread."""
        return await self.loop.run_in_executor(self._db, _with_connection, fn, *args)

    # --- tabs -------------------------------------------------------------------------

    def join(self, tab: Tab) -> None:
        self.tabs[tab.key] = tab
        for mailbox_id in tab.mailboxes:
            self.by_mailbox[mailbox_id].add(tab.key)
        self.names[tab.agent_id] = tab.name

    def leave(self, tab: Tab) -> None:
        self.tabs.pop(tab.key, None)
        for mailbox_id in tab.mailboxes:
            self.by_mailbox[mailbox_id].discard(tab.key)
        self._announce(tab, None, None, GONE)

    def snapshot(self, tab: Tab) -> str:
        items = self.presence.everywhere(tab.mailboxes)
        return json.dumps({"type": "presence_all", "items": items}, ensure_ascii=False)

    def place(
        self, tab: Tab, mailbox_id: int | None, conversation_id: int | None, state: str
    ) -> None:
        """A tab says where it is: viewing or replying on a conversation, or nowhere."""
        if mailbox_id is not None and mailbox_id not in tab.mailboxes:
            return
        self._announce(tab, mailbox_id, conversation_id, state)

    def _announce(self, tab: Tab, mailbox_id: int | None, conv_id: int | None, state: str) -> None:
        key = (self.origin, tab.key)
        if conv_id is None or mailbox_id is None or state == GONE:
            changed = self.presence.drop(key)
        else:
            seen = Seen(tab.agent_id, tab.name, mailbox_id, conv_id, state, float("inf"))
            changed = self.presence.put(key, seen)
        if changed:
            self._broadcast_presence(changed)
            pulse = Pulse(origin=self.origin, tab=tab.key, agent_id=tab.agent_id, name=tab.name,
                          mailbox_id=mailbox_id, conversation_id=conv_id, state=state)  # fmt: skip
            self.loop.run_in_executor(self._db, _with_connection, _write_pulses, [pulse])

    def _broadcast_presence(self, changed: dict[int, int]) -> None:
        for conv_id, mailbox_id in changed.items():
            self._send(mailbox_id, presence_payload(conv_id, self.presence.on(conv_id)))

    def _send(self, mailbox_id: int, text: str, *, only: int | None = None) -> None:
        """To every tab that may see the mailbox (``only``: just that agent's, a notification)."""
        for key in tuple(self.by_mailbox.get(mailbox_id, ())):
            tab = self.tabs.get(key)
            if tab is not None and (only is None or tab.agent_id == only):
                tab.push(text)

    # --- following the log ------------------------------------------------------------

    async def _follow(self) -> None:
        poll = settings.MADOGUCHI.live_poll_seconds
        while True:
            try:
                await self.call(self._begin)
                self._apply(await self.call(self._read))  # who is on which conversation already
                break
            except Exception:
                log.exception("live: cannot read the event log yet")
                await asyncio.sleep(1)
        self._ready.set()
        refreshed = checked = time.monotonic()
        freezer = Freezer(refreshed)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bell.wait(), timeout=poll)
            self._bell.clear()
            freezer.tend(len(self.tabs), time.monotonic())
            try:
                batch = await self.call(self._read)
                if any(r["type"] in ACCESS_EVENTS for r in batch.events):
                    agents = {tab.agent_id for tab in self.tabs.values()}
                    batch.access = await self.call(access_of, agents)
                self._apply(batch)
                if time.monotonic() - refreshed >= REFRESH_SECONDS:
                    refreshed = time.monotonic()
                    await self._refresh()
                if time.monotonic() - checked >= CHECK_SECONDS:
                    checked = time.monotonic()
                    await self._check_sessions()
            except Exception:  # the database went away: log, keep the tabs, try again
                log.exception("live: reading the event log failed")
                await asyncio.sleep(1)

    def _begin(self) -> None:
        """Start at the log's end, knowing the presence other processes announced lately."""
        top = Event.objects.aggregate(top=Max("id"))["top"] or 0
        self._events = Tail(top)
        since = timezone.now() - timedelta(seconds=EXPIRE_SECONDS)
        first = Pulse.objects.filter(created_at__gte=since).order_by("id").first()
        top = Pulse.objects.aggregate(top=Max("id"))["top"] or 0
        self._pulses = Tail(first.pk - 1 if first else top)  # the first read takes the recent

    def _read(self) -> Batch:
        batch = Batch()
        rows = list(
            Event.objects.filter(id__gt=self._events.floor)
            .order_by("id")
            .values(*EVENT_FIELDS)[:BATCH]
        )
        fresh = set(self._events.take((r["id"] for r in rows), time.time()))
        batch.events = [r for r in rows if r["id"] in fresh]
        rows = list(
            Pulse.objects.filter(id__gt=self._pulses.floor)
            .order_by("id")
            .values(*PULSE_FIELDS)[:BATCH]
        )
        fresh = set(self._pulses.take((r["id"] for r in rows), time.time()))
        batch.pulses = [r for r in rows if r["id"] in fresh and r["origin"] != self.origin]
        renamed = {r["actor_id"] for r in batch.events if r["type"] == EventType.AGENT_PREFERENCES}
        unknown = {
            r["actor_id"] for r in batch.events if r["actor_id"] and r["actor_id"] not in self.names
        }
        if unknown | renamed:
            batch.names = names_of(unknown | renamed)
        return batch

    def _apply(self, batch: Batch) -> None:
        self.names.update(batch.names)
        for tab in list(self.tabs.values()) if batch.access else ():
            if tab.agent_id in batch.access:
                self._reaccess(tab, batch.access[tab.agent_id])
        for row in batch.events:
            if row["type"] == SESSION_ENDED:
                self._signed_out(row["actor_id"], row["data"].get("session"))
            elif row["mailbox_id"] is not None:
                only = row["data"].get("to") if row["type"] == NOTIFICATION else None
                text = event_payload(row, self.names.get(row["actor_id"], ""))
                self._send(row["mailbox_id"], text, only=only)
        changed: dict[int, int] = {}
        for p in batch.pulses:
            key = (p["origin"], p["tab"])
            if p["state"] == GONE or p["conversation_id"] is None:
                changed |= self.presence.drop(key)
            else:
                expires = p["created_at"].timestamp() + EXPIRE_SECONDS
                seen = Seen(
                    p["agent_id"],
                    p["name"],
                    p["mailbox_id"],
                    p["conversation_id"],
                    p["state"],
                    expires,
                )
                changed |= self.presence.put(key, seen)
        changed |= self.presence.expire(time.time(), keep=self.origin)
        if changed:
            self._broadcast_presence(changed)

    def _reaccess(self, tab: Tab, mailboxes: frozenset[int] | None) -> None:
        """The tab's agent may now see ``mailboxes`` (None: may no longer sign in)."""
        if mailboxes is None:
            tab.shut()
            return
        if mailboxes == tab.mailboxes:
            return
        for mailbox_id in tab.mailboxes - mailboxes:
            self.by_mailbox[mailbox_id].discard(tab.key)
        for mailbox_id in mailboxes - tab.mailboxes:
            self.by_mailbox[mailbox_id].add(tab.key)
        tab.mailboxes = mailboxes
        tab.push(json.dumps({"type": "access"}))

    def _signed_out(self, agent_id: int | None, session: str | None) -> None:
        for tab in list(self.tabs.values()):
            if tab.agent_id == agent_id and tab.session == session:
                self.leave(tab)
                tab.shut(CLOSE_SIGNED_OUT)

    async def _check_sessions(self) -> None:
        """Close the sockets whose session expired, was removed or no longer signs in."""
        pairs = {(tab.session_key, tab.agent_id) for tab in self.tabs.values()}
        if not pairs:
            return
        gone = await self.call(ended, pairs)
        for tab in list(self.tabs.values()):
            if tab.session_key in gone:
                self.leave(tab)
                tab.shut(CLOSE_SIGNED_OUT)

    async def _refresh(self) -> None:
        """Re-announce this process's tabs so other processes keep showing them."""
        mine = self.presence.mine(self.origin)
        pulses = [Pulse(origin=self.origin, tab=key[1], agent_id=s.agent_id, name=s.name,
                        mailbox_id=s.mailbox_id, conversation_id=s.conversation_id, state=s.state)
                  for key, s in mine.items()]  # fmt: skip
        await self.call(_write_pulses, pulses, True)

    async def _listen(self) -> None:
        """On PostgreSQL: ring on every ``NOTIFY`` of the log (other processes' commits)."""
        import psycopg

        db = connections["default"].settings_dict
        params = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"],
                  "host": db["HOST"], "port": db["PORT"]}  # fmt: skip
        params = {k: v for k, v in params.items() if v}
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(autocommit=True, **params) as conn:
                    await conn.execute(f"LISTEN {event_log.CHANNEL}")
                    self.ring()  # anything committed while we were not listening
                    async for _ in conn.notifies():
                        self.ring()
            except Exception:
                log.warning("live: LISTEN connection lost; polling until it is back", exc_info=True)
                await asyncio.sleep(2)


def _with_connection(fn: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    return fn(*args)


def _write_pulses(pulses: list[Pulse], prune: bool = False) -> None:
    if pulses:
        Pulse.objects.bulk_create(pulses)
        event_log.announce()
    if prune:
        Pulse.objects.filter(created_at__lt=timezone.now() - PULSE_KEEP).delete()
