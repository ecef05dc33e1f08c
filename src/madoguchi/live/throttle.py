"""A token bucket: how many messages one socket may send, and how fast (pure, no I/O).

A tab says where it is when it opens a conversation or starts typing a reply: a few
messages a minute. ``RATE`` and ``BURST`` leave a wide margin for that and still stop a
script that floods the server (each message may cost a database query).
"""

from __future__ import annotations

#: Messages a second one socket may keep sending.
RATE = 5.0
#: Messages it may send at once after being quiet.
BURST = 20.0


class TokenBucket:
    def __init__(self, now: float, *, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = now

    def take(self, now: float) -> bool:
        """True if one more message may pass at ``now`` (monotonic seconds)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
