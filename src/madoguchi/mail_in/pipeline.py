"""Bulk intake (import, ``fetch --once``): parse the next batch while storing this one.

Parsing is pure Python and CPU-bound; storing waits on the database. A helper process
(the mail core has no Django, so it starts light) parses batch k+1 while this process
stores batch k, which uses the second core of a small machine. With one core, or for
small batches, everything runs in this process.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from types import TracebackType

from madoguchi import mail
from madoguchi.mail.batch import parse_all
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None
        if (os.cpu_count() or 1) > 1:
            self.pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        self.pending: tuple[list[RawMessage], Future[list[mail.ParsedMail]]] | None = None

    def add(self, raws: list[RawMessage]) -> None:
        """Queue raw rows of one mailbox (committed, pending) for ingest."""
        todo = [raw for raw in raws if raw.status == "pending"]
        if not todo:
            return
        if self.pool is not None:
            try:
                future = self.pool.submit(parse_all, [bytes(raw.data) for raw in todo])
            except Exception:  # no helper process can be had here: parse in this one
                log.warning("parsing in this process: no helper process", exc_info=True)
                self.pool = None
        if self.pool is None:
            self.drain()
            actions.ingest_safely(todo)
            return
        self.drain()
        self.pending = (todo, future)

    def drain(self) -> None:
        if self.pending is not None:
            raws, future = self.pending
            self.pending = None
            try:
                parsed = future.result()
            except Exception:  # the helper died: parse here instead
                parsed = None
            actions.ingest_safely(raws, parsed)

    def close(self) -> None:
        try:
            self.drain()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
