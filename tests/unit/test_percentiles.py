"""One percentile definition (nearest rank) for GC pauses, latency, heap and payload sizes,
checked on values whose percentiles are known by hand."""

from __future__ import annotations

from collections import Counter

import pytest

from treasure.percentiles import nearest_rank, percentile_of, percentile_of_counts
from treasure.probes.gc import GcProbe
from treasure.probes.latency import (
    counted_distribution,
    distribution_of,
    exact_distribution,
    histogram_of,
)
from treasure.recording_stats import percentile_of_counts as payload_percentile


@pytest.mark.parametrize(
    ("count", "percentile", "rank"),
    [(100, 99, 99), (100, 50, 50), (100, 100, 100), (100, 0, 1), (1000, 99.9, 999),
     (160, 99, 159), (1, 99, 1), (7, 50, 4), (3, 99.9, 3)],
)  # fmt: skip
def test_nearest_rank_is_the_ceiling_of_p_percent_of_n(
    count: int, percentile: float, rank: int
) -> None:
    assert nearest_rank(count, percentile) == rank


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        nearest_rank(10, 101)


def test_sorted_values_and_counted_values_agree() -> None:
    # given 160 values 1..160, as a list and as counts
    values = list(range(1, 161))
    counts = [(value, 1) for value in values]
    # then each definition gives the value of rank ceil(p·n/100)
    for percentile, expected in ((50, 80), (90, 144), (99, 159), (99.9, 160)):
        assert percentile_of(values, percentile) == expected
        assert percentile_of_counts(counts, percentile) == expected
    assert percentile_of_counts([], 99) == 0


def test_gc_pause_p99_of_100_pauses_is_the_99th_not_the_max() -> None:
    # given 100 pauses of 1..100 µs recorded by the probe
    probe = GcProbe()
    probe.pauses.extend(range(100_000, 0, -1_000))
    # then its p99 is the 99th pause and its max the 100th
    summary = probe.summary(messages=1000)
    assert summary.pause_p99_ns == 99_000
    assert summary.pause_max_ns == 100_000


def test_latency_percentiles_follow_the_same_rank() -> None:
    # given 160 latencies of 1..160 ns (exact in the HDR histogram: under 2048)
    distribution = distribution_of(histogram_of(list(range(1, 161))))
    # then p99 is the 159th (HdrHistogram's rounding of the rank would give 158)
    assert (distribution.p50, distribution.p90, distribution.p99) == (80, 144, 159)
    assert distribution.p999 == distribution.max == 160


def test_heap_and_payload_distributions_follow_the_same_rank() -> None:
    values = list(range(1, 161))
    exact = exact_distribution([float(v) for v in values])
    assert (exact.p50, exact.p90, exact.p99, exact.p999) == (80, 144, 159, 160)
    sizes = Counter(values)
    assert [payload_percentile(sizes, f) for f in (0.5, 0.9, 0.99)] == [80, 144, 159]


def test_counted_sizes_are_summarized_exactly_zero_and_large_ones_too() -> None:
    # given sizes an HDR histogram would clamp (0 to its lowest, 1) or round (past 2048)
    counts = {0: 2, 5: 1, 70_001: 96, 123_457: 1}
    summary = counted_distribution(counts)
    assert summary.count == 100
    assert (summary.min, summary.p50, summary.p99, summary.p999, summary.max) == (
        0, 70_001, 70_001, 123_457, 123_457,
    )  # fmt: skip
    assert summary.mean == (5 + 96 * 70_001 + 123_457) / 100
    assert counted_distribution({}).count == 0
