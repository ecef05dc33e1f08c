"""The WebSocket end of one browser tab (``/live``).

A tab connects with the id of the last event its page knew (``?after=``) and gets every
event of its mailboxes since, then each new one as the hub hands it over, and the presence
of others. It sends where it is: ``{"conversation": 12, "state": "viewing"|"replying"}``,
or ``{"conversation": null}`` when it leaves one. Writes go through a queue per tab, so a
slow browser delays only itself; one that falls too far behind is closed and, on
reconnecting, catches up from the log.

Limits: a message larger than ``MAX_MESSAGE_BYTES`` closes the socket with 1009 (uvicorn
refuses it already, ``ws_max_size`` in ``cli/run.py``; this holds under any server), and
a socket that sends faster than its token bucket allows (``throttle``) is closed with 1008
"policy violation": dropping would leave a flooding script connected and costing a parse
a message, and the page itself never comes near the limit (it reconnects if it ever does).
A socket closes with 4401 when its session signs out or ends (``sessions``), with 4403
when its agent is deactivated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import User
from django.http import Http404

from madoguchi.core.models import Event
from madoguchi.core.params import parse_id
from madoguchi.live.hub import EVENT_FIELDS, NOTIFICATION, Hub, event_payload, names_of
from madoguchi.live.presence import STATES
from madoguchi.live.sessions import fingerprint
from madoguchi.live.throttle import TokenBucket

log = logging.getLogger("madoguchi.live")
#: The most events a reconnecting tab is sent; beyond that it reloads its page instead.
REPLAY = 300
#: The most messages waiting for one tab before it is closed (it reconnects and catches up).
BACKLOG = 5000
CLOSE_UNAUTHORIZED, CLOSE_BEHIND, CLOSE_GONE = 4401, 4408, 4403
CLOSE_TOO_FAST, CLOSE_TOO_BIG = 1008, 1009
#: The largest message a tab may send (it sends ~40 bytes).
MAX_MESSAGE_BYTES = 4096


def _who(user: User) -> tuple[int, str, frozenset[int]] | None:
    from madoguchi.accounts.queries import agent_of
    from madoguchi.mailboxes.queries import visible_mailboxes

    agent = agent_of(user)
    if agent is None or not user.is_active:
        return None
    return user.pk, agent.name, frozenset(visible_mailboxes(agent).values_list("pk", flat=True))


def _missed(after: int, agent_id: int, mailboxes: frozenset[int]) -> list[str] | None:
    """The events since ``after`` in these mailboxes; None when there are too many."""
    rows = list(
        Event.objects.filter(id__gt=after, mailbox_id__in=mailboxes)
        .order_by("id")
        .values(*EVENT_FIELDS)[: REPLAY + 1]
    )
    if len(rows) > REPLAY:
        return None
    rows = [r for r in rows if r["type"] != NOTIFICATION or r["data"].get("to") == agent_id]
    names = names_of({r["actor_id"] for r in rows if r["actor_id"]})
    return [event_payload(r, names.get(r["actor_id"], "")) for r in rows]


def _mailbox_of(user: User, conversation_id: int) -> int | None:
    from madoguchi.accounts.queries import agent_of
    from madoguchi.conversations.queries import access_conversation

    agent = agent_of(user)  # again: the role may have changed since the socket opened
    if agent is None:
        return None
    try:
        return access_conversation(agent, conversation_id).mailbox_id
    except Http404:
        return None


class LiveConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    hub: Hub | None = None
    key = ""
    agent_id = 0
    name = ""
    mailboxes: frozenset[int] = frozenset()
    session_key = ""
    session = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        who = await database_sync_to_async(_who)(user) if user and user.is_authenticated else None
        if who is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.agent_id, self.name, self.mailboxes = who
        self.session_key = self.scope["session"].session_key or ""
        self.session = fingerprint(self.session_key)
        self._bucket = TokenBucket(time.monotonic())
        self.key = uuid.uuid4().hex
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._where: dict[int, int | None] = {}
        self.hub = await Hub.get()
        await self.accept()
        self.hub.join(self)
        self._writer = asyncio.create_task(self._write())
        after = parse_qs(self.scope.get("query_string", b"").decode()).get("after", [""])[0]
        cursor = parse_id(after)  # not isdigit(): "²" is a digit that int() refuses
        if cursor is not None:
            missed = await database_sync_to_async(_missed)(cursor, self.agent_id, self.mailboxes)
            for text in missed if missed is not None else [json.dumps({"type": "resync"})]:
                self.push(text)
        self.push(self.hub.snapshot(self))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.hub is None:
            return
        refused = self._refused(len(text_data or "") + len(bytes_data or b""))
        if refused:
            await self._close_now(refused)
            return
        if not text_data:
            return
        try:
            said: Any = json.loads(text_data)
            conversation, state = said.get("conversation"), said.get("state", "viewing")
        except (ValueError, AttributeError):
            return  # not ours to answer: a bad message changes nothing
        if conversation is None:
            self.hub.place(self, None, None, "gone")
            return
        if (
            not isinstance(conversation, int)
            or isinstance(conversation, bool)
            or state not in STATES
        ):
            return
        if conversation not in self._where:
            self._where[conversation] = await database_sync_to_async(_mailbox_of)(
                self.scope["user"], conversation
            )
        mailbox = self._where[conversation]
        if mailbox is not None:
            self.hub.place(self, mailbox, conversation, state)

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            self.hub.leave(self)
            self._writer.cancel()
            self.hub = None

    def push(self, text: str) -> None:
        if self._queue.qsize() >= BACKLOG:
            self.shut(CLOSE_BEHIND)
            return
        self._queue.put_nowait(text)

    def _refused(self, size: int) -> int:
        """The close code when a message breaks the limits, else 0."""
        if size > MAX_MESSAGE_BYTES:
            log.warning("live: agent %s sent a message too large; closing", self.agent_id)
            return CLOSE_TOO_BIG
        if not self._bucket.take(time.monotonic()):
            log.warning("live: agent %s sends too fast; closing", self.agent_id)
            return CLOSE_TOO_FAST
        return 0

    async def _close_now(self, code: int) -> None:
        if self.hub is not None:
            self.hub.leave(self)
            self._writer.cancel()
            self.hub = None
            await self.close(code=code)

    def shut(self, code: int = CLOSE_GONE) -> None:
        """Close from the hub's side: access gone, or too far behind."""
        asyncio.get_running_loop().create_task(self.close(code=code))

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            await self.send(text_data=text)
