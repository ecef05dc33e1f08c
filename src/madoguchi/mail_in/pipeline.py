"""Bulk intake (import, ``fetch --once``): parse the next batch while storing this one.

Parsing is pure Python and CPU-bound; storing waits on the database. The pipeline's own
parser helper process (``parser.Helper``: the mail core has no Django, so it starts light)
parses batch k+1 while this process stores batch k, which uses the second core of a small
machine. Each mail is held to the parse time limit there; a mail over it is marked failed
and the helper is replaced. When no helper process can be had, everything runs here.
"""

from __future__ import annotations

import logging
from types import TracebackType

from madoguchi import mail
from madoguchi.mail_in import actions
from madoguchi.mail_in.models import RawMessage
from madoguchi.mail_in.parser import Batch, Helper, Result

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(self) -> None:
        self.helper: Helper | None = Helper()
        self.pending: tuple[list[RawMessage], Batch] | None = None

    def add(self, raws: list[RawMessage]) -> None:
        """Queue raw rows of one mailbox (committed, pending) for ingest."""
        todo = [raw for raw in raws if raw.status == "pending"]
        if not todo:
            return
        if self.helper is not None:
            try:
                self.helper.start()
            except OSError:  # no helper process can be had here: parse in this one
                log.warning("parsing in this process: no helper process", exc_info=True)
                self.helper = None
        if self.helper is None:
            self.drain()
            actions.ingest_safely(todo, [mail.parse(bytes(raw.data)) for raw in todo])
            return
        self.drain()
        self.pending = (todo, Batch(self.helper, [bytes(raw.data) for raw in todo]))

    def drain(self) -> None:
        if self.pending is not None:
            raws, batch = self.pending
            self.pending = None
            parsed: list[Result] | None
            try:
                parsed = batch.result()
            except Exception:  # the helper could not be reached: parse again, guarded
                log.warning("parser helper failed; parsing the batch again", exc_info=True)
                parsed = None
            actions.ingest_safely(raws, parsed)

    def close(self) -> None:
        try:
            self.drain()
        finally:
            if self.helper is not None:
                self.helper.stop()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
