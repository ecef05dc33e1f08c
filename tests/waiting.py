"""The one way a test waits: for a condition, with a deadline (never a bare ``sleep``).

Browser tests wait with Playwright's own ``expect(...)`` and ``wait_for_*``; everything else
(a mail reaching a capture server, a row a worker writes, a process ending) uses
``wait_until``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often the condition is checked again.
POLL_SECONDS = 0.05


def wait_until(check: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    """Return ``check()``'s first true value; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        time.sleep(POLL_SECONDS)
    return result
