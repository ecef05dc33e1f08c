"""Durations into histogram buckets and percentiles back (``reports.buckets``)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.reports.buckets import EDGES, bucket_of, percentile


def test_short_durations_are_exact_and_long_ones_within_ten_percent() -> None:
    assert [bucket_of(m) for m in range(12)] == list(range(12))
    assert percentile({bucket_of(5): 1, bucket_of(7): 1, bucket_of(9): 1}, 0.5) == 7
    assert percentile({}, 0.5) is None


@given(st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=60),
       st.sampled_from([0.5, 0.9]))  # fmt: skip
def test_a_percentile_is_near_the_true_one(values: list[int], q: float) -> None:
    histogram: dict[int, int] = {}
    for v in values:
        histogram[bucket_of(v)] = histogram.get(bucket_of(v), 0) + 1
    exact = sorted(values)[max(1, math.ceil(len(values) * q)) - 1]  # nearest rank
    got = percentile(histogram, q)
    assert got is not None
    assert abs(got - exact) <= max(1.0, exact * 0.11)
    assert EDGES[bucket_of(exact)] <= got <= EDGES[min(bucket_of(exact) + 1, len(EDGES) - 1)]
