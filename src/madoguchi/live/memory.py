"""Keep the garbage collector's full passes off the live path.

With 2,000 tabs a web process tracks ~460,000 objects, and a full collection stops the
event loop for 250-400 ms: every tab then gets its update that much later
(bench/realtime.py). Most of those objects live as long as their tab, so the hub moves
what exists to the permanent generation (``gc.freeze``) when many tabs have joined and
every minute; young objects are still collected as usual. Objects frozen that later become
garbage are freed by a full pass once an hour, at a time the hub chooses, instead of
whenever the collector's counters say (Instagram's pattern for long-running servers).
"""

from __future__ import annotations

import gc

FREEZE_SECONDS = 60.0
THAW_SECONDS = 3600.0
#: Freeze early once this share of tabs joined since the last freeze (at most every 5 s).
GROWTH = 0.2


class Freezer:
    def __init__(self, now: float) -> None:
        self.frozen_at = self.thawed_at = now
        self.tabs = 0

    def tend(self, tabs: int, now: float) -> str:
        """Freeze, thaw or nothing; says which (for the tests and the log)."""
        if now - self.thawed_at >= THAW_SECONDS:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.thawed_at = self.frozen_at = now
            self.tabs = tabs
            return "thawed"
        grown = tabs - self.tabs >= max(50, int(self.tabs * GROWTH))
        if now - self.frozen_at >= FREEZE_SECONDS or (grown and now - self.frozen_at >= 5):
            gc.freeze()
            self.frozen_at, self.tabs = now, tabs
            return "frozen"
        return ""
