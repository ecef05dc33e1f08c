"""Follow an auto-increment id column whose rows may commit out of order.

On PostgreSQL two transactions can take ids 10 and 11 and commit 11 first: a reader that
only remembers "the highest id seen" would skip 10 for ever. ``Tail`` remembers the ids it
saw above a floor below which nothing is missing, and waits a grace period for a missing
id before giving it up (a rolled-back transaction never fills its id). Small and pure, so
it is tested alone; no library does just this.
"""

from __future__ import annotations

from collections.abc import Iterable

#: How long a missing id may still appear (longer than any transaction that writes events).
GRACE_SECONDS = 30.0
#: A jump larger than this is not waited for (a sequence reset, a restored backup).
MAX_GAPS = 10_000


class Tail:
    def __init__(self, start: int, *, grace: float = GRACE_SECONDS) -> None:
        self.floor = start  # every id <= floor was seen or given up
        self.grace = grace
        self._seen: set[int] = set()  # ids above the floor already taken
        self._missing: dict[int, float] = {}  # id -> when it was first missed

    def take(self, ids: Iterable[int], now: float) -> list[int]:
        """The ids among ``ids`` not taken before, in order; then moves the floor."""
        fresh = sorted({i for i in ids if i > self.floor and i not in self._seen})
        self._seen.update(fresh)
        top = max(self._seen, default=self.floor)
        if top - self.floor > MAX_GAPS:
            self.floor, self._seen, self._missing = top, set(), {}
            return fresh
        for i in range(self.floor + 1, top):
            if i not in self._seen:
                self._missing.setdefault(i, now)
        while True:
            following = self.floor + 1
            if following in self._seen:
                self._seen.discard(following)
            elif following in self._missing and now - self._missing[following] >= self.grace:
                pass  # given up: its transaction rolled back
            else:
                break
            self._missing.pop(following, None)
            self.floor = following
        return fresh

    @property
    def waiting(self) -> bool:
        """True while some id below the newest one seen may still appear."""
        return bool(self._missing)
