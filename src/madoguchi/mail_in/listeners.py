"""SMTP and LMTP listeners (aiosmtpd) that accept mail for known mailboxes.

RFC 5321 (SMTP) and RFC 2033 (LMTP). Unknown recipients get ``550`` at RCPT; mail larger
than the server or mailbox limit gets ``552``; ``250`` is sent only after the raw bytes are
committed (``mail_in.actions.accept``), and ``451`` when they could not be, so the sending
MTA keeps the mail and retries. LMTP answers once per recipient.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections

from madoguchi.mail_in import actions
from madoguchi.mail_in.types import RawInbound, SourceName
from madoguchi.mailboxes.queries import mailbox_for_address

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_THREADS = 4


def _known(address: str) -> bool:
    close_old_connections()
    return mailbox_for_address(address) is not None


def _store(rcpt: str, data: bytes, envelope: Envelope, source: SourceName, peer: str) -> str:
    """Commit the mail for one recipient; returns the reply line for it."""
    close_old_connections()
    mailbox = mailbox_for_address(rcpt)
    if mailbox is None:
        return f"550 5.1.1 <{rcpt}>: no such mailbox here"
    if len(data) > mailbox.max_message_bytes:
        return f"552 5.3.4 message too big for <{rcpt}> (limit {mailbox.max_message_bytes} bytes)"
    raw = RawInbound(
        data=data,
        source=source,
        envelope_from=envelope.mail_from or "",
        envelope_to=(rcpt,),
        origin=peer,
    )
    try:
        row, created = actions.accept(mailbox, raw)
    except Exception:
        log.exception("could not store mail for %s", rcpt)
        return "451 4.3.0 could not store the message, try again later"
    return f"250 2.0.0 <{rcpt}> stored as {row.pk}" + ("" if created else " (already had it)")


class IntakeHandler:
    """aiosmtpd handler shared by the SMTP and LMTP servers."""

    def __init__(self, source: SourceName) -> None:
        self.source = source
        self.executor = ThreadPoolExecutor(DB_THREADS, thread_name_prefix=f"{source}-db")

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work in this server's own threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def close(self) -> None:
        """Close each database thread's connection, then the threads."""
        barrier = threading.Barrier(DB_THREADS, timeout=5)

        def close_mine() -> None:
            connections.close_all()
            barrier.wait()

        for future in [self.executor.submit(close_mine) for _ in range(DB_THREADS)]:
            future.exception()
        self.executor.shutdown(wait=True)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        try:
            known = await self._db(_known, address)
        except Exception:
            log.exception("recipient lookup failed for %s", address)
            return "451 4.3.0 temporary failure looking up the recipient"
        if not known:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not data:
            data = envelope.content
        peer = str(session.peer[0]) if session.peer else ""
        replies = [
            await self._db(_store, rcpt, data, envelope, self.source, peer)
            for rcpt in envelope.rcpt_tos
        ]
        if self.source == "lmtp":
            return "\r\n".join(replies)
        if all(r.startswith("250") for r in replies):
            return replies[0]
        # SMTP has one answer for all recipients: a retry is harmless (accept is idempotent).
        return next(r for r in replies if not r.startswith("250"))


class IntakeController(Controller):
    """A threaded aiosmtpd server for one protocol, used by `madoguchi run` and the tests."""

    def __init__(self, source: SourceName, *, host: str, port: int, max_bytes: int) -> None:
        self.source = source
        self.max_bytes = max_bytes
        super().__init__(IntakeHandler(source), hostname=host, port=port, ready_timeout=10)

    def factory(self) -> SMTP:
        kwargs: dict[str, Any] = {
            "data_size_limit": self.max_bytes,
            "enable_SMTPUTF8": True,
            "ident": "Madoguchi",
        }
        if self.source == "lmtp":
            return LMTP(self.handler, **kwargs)
        return SMTP(self.handler, **kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.handler.close()
