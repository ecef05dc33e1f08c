"""Parse raw mail in a helper process that is killed when one mail takes too long.

``mail.parse`` is linear on every input we know of (docs/mail/limits.md), but one mail must
never hold up the process that also sends replies and notifications, whatever it holds.
Python cannot stop a thread, and an alarm signal only reaches the main thread (intake runs
in a worker thread), so the time limit is a process boundary: a long-lived helper process
(started once, it imports only the mail core) parses every mail and sends each result back
as soon as it is made; a thread of this process waits at most :data:`PARSE_SECONDS` for each
one. When the time is up the helper is killed, that mail gets a :class:`ParseFailure`
(intake marks it failed with the reason, ``madoguchi mail failed`` lists it), and a fresh
helper takes the rest of the batch. A helper that dies (out of memory, a crash) fails only
the mail it was parsing, in the same way.

Why always a helper rather than parsing here and only falling back to one: the guard has to
be in place before a mail turns out to be slow, and it is cheap. Measured (docs/performance.md):
600 generated mails parse at 671-839/s here and 693-760/s through the helper (it runs on the
other core); ``bench/ingest.py`` import ran at 312-344 msgs/s after against 235-295 before, on
a busy machine; the bulk pipeline already parsed in a helper. It also keeps the memory a
hostile mail may take (bounded by :data:`PARSE_MEMORY_BYTES`) out of the long-running process.

The helper exits when this process goes, even by SIGKILL: it sees the end of its stdin, and
a thread of it watches that its parent is still alive (see ``madoguchi.mail.batch``).
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

from madoguchi import mail
from madoguchi.mail.batch import READY

log = logging.getLogger(__name__)

#: Seconds one mail may take to parse before its parser is stopped.
PARSE_SECONDS = 10.0
#: Address space the helper may use (bytes): a mail's memory can never reach this process.
PARSE_MEMORY_BYTES = 4 * 1024**3
#: Seconds a new helper may take to start (import the mail core).
START_SECONDS = 60.0


@dataclass(frozen=True)
class ParseFailure:
    """A mail that could not be parsed: the helper ran out of time or died on it."""

    reason: str


Result = mail.ParsedMail | ParseFailure
_MAIN = "from madoguchi.mail.batch import main; main()"


class Helper:
    """One helper process and the pipes to it; restarted after it is killed.

    A plain subprocess (not ``multiprocessing``): it shares no file descriptor but its own
    pipes, so it sees their end when this process dies, and it does not import this
    process's main module again.
    """

    def __init__(self, limit: float | None = None) -> None:
        self.limit = limit
        self.process: subprocess.Popen[bytes] | None = None
        self.mails: Connection | None = None
        self.results: Connection | None = None

    def seconds(self) -> float:
        return PARSE_SECONDS if self.limit is None else self.limit

    def start(self) -> tuple[Connection, Connection]:
        """The pipes to a running helper, starting one if needed."""
        if self.mails and self.results and self.process and self.process.poll() is None:
            return self.mails, self.results
        self.stop()
        path = os.pathsep.join(p for p in sys.path if p)
        process = subprocess.Popen(
            [sys.executable, "-c", _MAIN, str(os.getpid()), str(PARSE_MEMORY_BYTES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.mails = Connection(os.dup(process.stdin.fileno()), readable=False)
        self.results = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        try:
            ready = self.results.poll(START_SECONDS) and self.results.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise OSError("the parser process did not start")
        return self.mails, self.results

    def stop(self) -> None:
        """Kill the helper (if any) and wait for it."""
        process, mails, results = self.process, self.mails, self.results
        self.process = self.mails = self.results = None
        for conn in (mails, results):
            if conn is not None:
                conn.close()
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait(5)

    def parse(self, datas: list[bytes]) -> list[Result]:
        """Parse ``datas`` in the helper, each mail held to the time limit."""
        results: list[Result] = []
        while len(results) < len(datas):
            todo = datas[len(results) :]
            mails, replies = self.start()
            try:
                mails.send(todo)
            except OSError:
                self.stop()
                mails, replies = self.start()
                mails.send(todo)
            for _ in todo:
                result = self._receive(replies, len(datas[len(results)]))
                results.append(result)
                if isinstance(result, ParseFailure):
                    break  # the helper is gone: a new one takes the rest
        return results

    def _receive(self, replies: Connection, size: int) -> Result:
        seconds = self.seconds()
        try:
            if replies.poll(seconds):
                parsed: mail.ParsedMail = replies.recv()
                return parsed
            reason = f"parsing took longer than {seconds:g} s; the parser was stopped"
        except (EOFError, OSError):
            code = _exit_code(self.process)
            reason = f"the parser process died on it (out of memory or a crash; exit code {code})"
        log.warning("mail of %d bytes not parsed: %s", size, reason)
        self.stop()
        return ParseFailure(reason)


def _exit_code(process: subprocess.Popen[bytes] | None) -> int | None:
    if process is None:
        return None
    try:
        return process.wait(2)
    except subprocess.TimeoutExpired:
        return None


class Batch:
    """A batch parsed in the background: results are read as the helper makes them."""

    def __init__(self, helper: Helper, datas: list[bytes]) -> None:
        self.results: list[Result] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, args=(helper, datas), name="parse-batch", daemon=True
        )
        self.thread.start()

    def _run(self, helper: Helper, datas: list[bytes]) -> None:
        try:
            self.results = helper.parse(datas)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller of result()
            self.error = exc

    def result(self) -> list[Result]:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.results


_shared: Helper | None = None
_shared_lock = threading.Lock()


def parse_many(datas: list[bytes]) -> list[Result]:
    """Parse mails in this process's shared helper (started on first use)."""
    global _shared  # noqa: PLW0603 - one helper per process, started lazily
    with _shared_lock:
        if _shared is None:
            _shared = Helper()
            atexit.register(_shared.stop)
        try:
            return _shared.parse(datas)
        except OSError:  # no helper process can be had here: parse without a time limit
            log.warning("parsing in this process: no helper process", exc_info=True)
            return [mail.parse(data) for data in datas]
