"""Latency probe: raw values go into a preallocated array inside the loop; the HDR
histogram is built after the loop, because recording into it costs ~1 µs per value."""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence

from hdrh.histogram import HdrHistogram

from treasure.results import Distribution, LatencySummary

HIGHEST_NS = 3_600_000_000_000  # one hour: anything slower is clamped, not dropped
CURVE_PERCENTILES = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0)
MAX_BLOCKS = 400


def histogram_of(values: Sequence[int]) -> HdrHistogram:
    histogram = HdrHistogram(1, HIGHEST_NS, 3)
    for value in values:
        histogram.record_value(min(max(value, 1), HIGHEST_NS))
    return histogram


def counted_histogram(counts: Mapping[int, int]) -> HdrHistogram:
    """The histogram of values given as value -> how many times it occurred."""
    histogram = HdrHistogram(1, HIGHEST_NS, 3)
    for value, count in counts.items():
        histogram.record_value(min(max(value, 1), HIGHEST_NS), count)
    return histogram


def distribution_of(histogram: HdrHistogram) -> Distribution:
    return Distribution(
        count=histogram.get_total_count(),
        mean=float(histogram.get_mean_value()),
        min=float(histogram.get_min_value()),
        p50=float(histogram.get_value_at_percentile(50)),
        p90=float(histogram.get_value_at_percentile(90)),
        p99=float(histogram.get_value_at_percentile(99)),
        p999=float(histogram.get_value_at_percentile(99.9)),
        max=float(histogram.get_max_value()),
    )


def exact_distribution(values: Sequence[float]) -> Distribution:
    """Exact percentiles (nearest rank) for small sets: bytes per message, sizes."""
    if not values:
        return Distribution(count=0, mean=0.0, p50=0.0, p90=0.0, p99=0.0, p999=0.0, max=0.0)
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
        return float(ordered[index])

    return Distribution(
        count=len(ordered),
        mean=float(statistics.fmean(ordered)),
        min=float(ordered[0]),
        p50=rank(50),
        p90=rank(90),
        p99=rank(99),
        p999=rank(99.9),
        max=float(ordered[-1]),
    )


def _curve(histogram: HdrHistogram) -> list[tuple[float, int]]:
    return [(p, int(histogram.get_value_at_percentile(p))) for p in CURVE_PERCENTILES]


def _buckets(values: Sequence[int], buckets: int = 60) -> list[tuple[int, int]]:
    """Log-spaced buckets between min and max of the raw values: (upper bound ns, count)."""
    ordered = sorted(values)
    low, high = max(1, ordered[0]), max(2, ordered[-1])
    ratio = (high / low) ** (1 / buckets)
    bounds = sorted({int(low * ratio**i) + 1 for i in range(1, buckets)} | {high})
    counts: list[tuple[int, int]] = []
    previous = 0
    for bound in bounds:
        below = bisect_right(ordered, bound)
        if below > previous:
            counts.append((bound, below - previous))
        previous = below
    return counts


def block_medians(values: Sequence[int]) -> tuple[int, list[int]]:
    """Medians of consecutive blocks: the repeated samples a regression check resamples."""
    if not values:
        return 0, []
    size = max(50, -(-len(values) // MAX_BLOCKS))
    medians = [
        int(statistics.median(values[start : start + size]))
        for start in range(0, len(values) - size + 1, size)
    ]
    return size, medians


def summarize(uncorrected: array[int], corrected: array[int] | None) -> LatencySummary:
    histogram = histogram_of(uncorrected)
    size, medians = block_medians(uncorrected)
    summary = LatencySummary(
        uncorrected=distribution_of(histogram),
        percentile_curve=_curve(histogram),
        histogram=_buckets(uncorrected) if uncorrected else [],
        block_size=size,
        block_medians_ns=medians,
    )
    if corrected is not None:
        corrected_histogram = histogram_of(corrected)
        summary.corrected = distribution_of(corrected_histogram)
        summary.corrected_curve = _curve(corrected_histogram)
    return summary
