"""Durations into histogram buckets and percentiles out of them (pure Python).

Bucket 0 holds 0 minutes; bucket ``b`` ≥ 1 holds the minutes in
``[edge(b), edge(b + 1))`` where edges grow by about 10 % (1, 2, 3, …, 10, 11, 12, 14,
… minutes up to a year), so a percentile read from a histogram is within 10 % of the true
one; up to 10 minutes every minute has a bucket of its own (exact).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping

GROWTH = 1.1
YEAR = 366 * 24 * 60


def _edges() -> list[int]:
    edges = [0, 1]
    while edges[-1] < YEAR:
        edges.append(max(edges[-1] + 1, round(edges[-1] * GROWTH)))
    return edges


EDGES = _edges()


def bucket_of(minutes: int) -> int:
    return min(bisect.bisect_right(EDGES, max(0, minutes)) - 1, len(EDGES) - 1)


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0–1) in minutes by nearest rank (the ``ceil(q·n)``-th smallest
    value: the median of two values is the lower), placed inside its bucket; None if empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    k = max(1, math.ceil(q * total))
    seen = 0
    for b in sorted(histogram):
        count = histogram[b]
        if count <= 0:
            continue
        if seen + count >= k:
            low = EDGES[b]
            high = EDGES[b + 1] if b + 1 < len(EDGES) else low
            if high - low <= 1:
                return float(low)
            return low + (high - low) * ((k - seen - 0.5) / count)
        seen += count
    return float(EDGES[max(histogram)])
