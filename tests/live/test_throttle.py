"""The token bucket of one live socket."""

from __future__ import annotations

from madoguchi.live.throttle import TokenBucket


def test_a_burst_passes_then_the_rate_holds():
    bucket = TokenBucket(0.0, rate=5, burst=20)
    assert all(bucket.take(0.0) for _ in range(20))
    assert not bucket.take(0.0)
    assert bucket.take(0.2) and not bucket.take(0.2)  # one token back per 1/5 s


def test_quiet_time_refills_but_never_beyond_the_burst():
    bucket = TokenBucket(0.0, rate=5, burst=20)
    for _ in range(20):
        bucket.take(0.0)
    assert sum(bucket.take(3600.0) for _ in range(30)) == 20
