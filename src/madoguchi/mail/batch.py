"""Parse mail in a helper process: the loop that runs there (no Django: it starts light).

The parent (``madoguchi.mail_in.parser``) starts ``python -c "...batch import main; main()"``
and sends lists of raw mails on its stdin; this loop sends back one ``ParsedMail`` per mail on
its stdout as soon as it is made (pickled, framed by ``multiprocessing.connection``), so the
parent can hold each mail to a time limit and kill this process when one takes too long.
It ends when the parent goes: stdin reaches its end when the parent closes it or dies, and a
thread checks every half second that the parent is still the parent (a busy parse does not
read stdin).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from multiprocessing.connection import Connection

from .parse import parse
from .types import ParsedMail

PARENT_CHECK_SECONDS = 0.5
READY = "ready"


def parse_all(datas: list[bytes]) -> list[ParsedMail]:
    return [parse(data) for data in datas]


def main() -> None:
    """Entry of the helper process: ``sys.argv`` holds the parent's id and a memory limit.

    Past the memory limit (address space, bytes; 0 for none) a parse meets MemoryError
    and degrades, or this process dies and the parent fails only that mail.
    """
    parent, memory = int(sys.argv[1]), int(sys.argv[2])
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    results = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the results
    serve(Connection(0, writable=False), Connection(results, readable=False), parent)


def serve(mails: Connection, results: Connection, parent: int) -> None:
    """Parse each batch received; return when the parent closes the pipe or dies."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    results.send(READY)  # imports done: from now on the parent's clock is parse time
    while True:
        try:
            datas = mails.recv()
        except (EOFError, OSError):
            return
        for data in datas:
            results.send(parse(data))


def _watch_parent(parent: int) -> None:
    """Leave at once when the parent process is gone (this process was given to another)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(PARENT_CHECK_SECONDS)
