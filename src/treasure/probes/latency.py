"""Latency probe: raw values go into a preallocated array inside the loop; the HDR
histogram is built after the loop, because recording into it costs ~1 µs per value."""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import accumulate

from hdrh.histogram import HdrHistogram

from treasure.percentiles import percentile_of, percentile_of_counts
from treasure.results import Distribution, LatencySummary

HIGHEST_NS = 3_600_000_000_000  # one hour: anything slower is clamped, not dropped
SIGNIFICANT_DIGITS = 3
# (lowest, highest, significant digits): histograms of one configuration merge exactly
HDR_CONFIGURATION = (1, HIGHEST_NS, SIGNIFICANT_DIGITS)
CURVE_PERCENTILES = (0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0)
MAX_BLOCKS = 400


class HistogramError(ValueError):
    """An encoded histogram that cannot be read, or one of another configuration."""


def new_histogram() -> HdrHistogram:
    return HdrHistogram(*HDR_CONFIGURATION)


def histogram_of(values: Sequence[int]) -> HdrHistogram:
    histogram = new_histogram()
    for value in values:
        histogram.record_value(min(max(value, 1), HIGHEST_NS))
    return histogram


def encode_histogram(histogram: HdrHistogram) -> str:
    """HdrHistogram's own compressed, base64 form: every bucket, exactly."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def configuration_of(histogram: HdrHistogram) -> tuple[int, int, int]:
    return (
        int(histogram.lowest_trackable_value),
        int(histogram.highest_trackable_value),
        int(histogram.significant_figures),
    )


def decode_histogram(encoded: str) -> HdrHistogram:
    """The histogram `encode_histogram` wrote; one of another configuration is refused,
    since only histograms of one configuration add up bucket by bucket."""
    try:
        histogram = HdrHistogram.decode(encoded.encode("ascii"))
    except Exception as exc:  # hdrh raises its own, binascii's, zlib's and struct's errors
        raise HistogramError(f"unreadable HDR histogram ({type(exc).__name__}: {exc})") from None
    found = configuration_of(histogram)
    if found != HDR_CONFIGURATION:
        raise HistogramError(
            f"HDR histogram of configuration (lowest, highest, digits) {found}, "
            f"not {HDR_CONFIGURATION}: histograms merge only within one configuration"
        )
    return histogram


def bucket_counts(histogram: HdrHistogram) -> list[tuple[int, int]]:
    """Every non-empty bucket as (bucket index, count): equal lists, equal histograms."""
    counts = histogram.counts
    return [(index, int(counts[index])) for index in range(len(counts)) if counts[index]]


def recorded_values(histogram: HdrHistogram) -> list[tuple[int, int]]:
    """(value, count) of every non-empty bucket, the value its bucket's highest: what
    hdrh's recorded iterator gives, read straight off the counts (its iterator is ~100×
    slower)."""
    highest, value_of = histogram.get_highest_equivalent_value, histogram.get_value_from_index
    return [(int(highest(value_of(index))), count) for index, count in bucket_counts(histogram)]


def mean_of(histogram: HdrHistogram) -> float:
    """hdrh's `get_mean_value` (each bucket at its median equivalent value), read off the
    counts: its iterator costs ~1 s on a histogram of wide spread."""
    total = int(histogram.get_total_count())
    if not total:
        return 0.0
    median = histogram._hdr_median_equiv_value  # the private helper hdrh's mean uses
    weighted = sum(count * int(median(value)) for value, count in recorded_values(histogram))
    return float(weighted) / total


def percentiles_of(histogram: HdrHistogram, percentiles: Sequence[float]) -> dict[float, int]:
    """Each percentile by treasure.percentiles' nearest rank, in one pass over the non-empty
    buckets (hdrh's own `get_value_at_percentile` rounds the rank to the nearest, and walks
    every bucket, empty ones too, once per percentile)."""
    counts = recorded_values(histogram)
    return {percentile: percentile_of_counts(counts, percentile) for percentile in percentiles}


def distribution_of(histogram: HdrHistogram) -> Distribution:
    at = percentiles_of(histogram, (50, 90, 99, 99.9))
    return Distribution(
        count=histogram.get_total_count(),
        mean=mean_of(histogram),
        min=float(histogram.get_min_value()),
        p50=float(at[50]),
        p90=float(at[90]),
        p99=float(at[99]),
        p999=float(at[99.9]),
        max=float(histogram.get_max_value()),
    )


def counted_distribution(counts: Mapping[int, int]) -> Distribution:
    """The exact distribution of values given as value -> how many times it occurred
    (payload sizes: every size is counted, so no bucket of a histogram rounds them)."""
    pairs = sorted((value, count) for value, count in counts.items() if count > 0)
    total = sum(count for _, count in pairs)
    if total == 0:
        return Distribution(count=0, mean=0.0, p50=0.0, p90=0.0, p99=0.0, p999=0.0, max=0.0)
    return Distribution(
        count=total,
        mean=sum(value * count for value, count in pairs) / total,
        min=float(pairs[0][0]),
        p50=float(percentile_of_counts(pairs, 50)),
        p90=float(percentile_of_counts(pairs, 90)),
        p99=float(percentile_of_counts(pairs, 99)),
        p999=float(percentile_of_counts(pairs, 99.9)),
        max=float(pairs[-1][0]),
    )


def exact_distribution(values: Sequence[float]) -> Distribution:
    """Exact percentiles (nearest rank) for small sets: bytes per message, sizes."""
    if not values:
        return Distribution(count=0, mean=0.0, p50=0.0, p90=0.0, p99=0.0, p999=0.0, max=0.0)
    ordered = sorted(values)
    return Distribution(
        count=len(ordered),
        mean=float(statistics.fmean(ordered)),
        min=float(ordered[0]),
        p50=float(percentile_of(ordered, 50)),
        p90=float(percentile_of(ordered, 90)),
        p99=float(percentile_of(ordered, 99)),
        p999=float(percentile_of(ordered, 99.9)),
        max=float(ordered[-1]),
    )


def percentile_curve(histogram: HdrHistogram) -> list[tuple[float, int]]:
    """[percentile, value] pairs for percentile plots, by the same nearest rank."""
    return list(percentiles_of(histogram, CURVE_PERCENTILES).items())


def _buckets(counted: Sequence[tuple[int, int]], buckets: int = 60) -> list[tuple[int, int]]:
    """Log-spaced buckets between min and max of (value, count) pairs sorted by value:
    (upper bound ns, count)."""
    values = [value for value, _ in counted]
    running = list(accumulate(count for _, count in counted))
    low, high = max(1, values[0]), max(2, values[-1])
    ratio = (high / low) ** (1 / buckets)
    bounds = sorted({int(low * ratio**i) + 1 for i in range(1, buckets)} | {high})
    counts: list[tuple[int, int]] = []
    previous = 0
    for bound in bounds:
        position = bisect_right(values, bound)
        below = running[position - 1] if position else 0
        if below > previous:
            counts.append((bound, below - previous))
        previous = below
    return counts


def _histogram_buckets(histogram: HdrHistogram) -> list[tuple[int, int]]:
    return _buckets(recorded_values(histogram)) if histogram.get_total_count() else []


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


def summarize(
    uncorrected: array[int], corrected: array[int] | None, keep_histograms: bool = False
) -> LatencySummary:
    """The latency figures of a run; `keep_histograms` keeps the HDR histograms themselves
    (a shard's run: `treasure merge` adds them up)."""
    size, medians = block_medians(uncorrected)
    return summary_of_histograms(
        histogram_of(uncorrected),
        histogram_of(corrected) if corrected is not None else None,
        histogram=_buckets(sorted(Counter(uncorrected).items())) if uncorrected else [],
        block_size=size,
        block_medians_ns=medians,
        keep_histograms=keep_histograms,
    )


def summary_of_histograms(
    uncorrected: HdrHistogram,
    corrected: HdrHistogram | None,
    *,
    histogram: list[tuple[int, int]] | None = None,
    block_size: int = 0,
    block_medians_ns: list[int] | None = None,
    keep_histograms: bool = True,
) -> LatencySummary:
    """Latency figures read from HDR histograms (a run's, or the sum of its shards')."""
    summary = LatencySummary(
        uncorrected=distribution_of(uncorrected),
        percentile_curve=percentile_curve(uncorrected),
        histogram=histogram if histogram is not None else _histogram_buckets(uncorrected),
        block_size=block_size,
        block_medians_ns=block_medians_ns or [],
        hdr=encode_histogram(uncorrected) if keep_histograms else "",
    )
    if corrected is not None:
        summary.corrected = distribution_of(corrected)
        summary.corrected_curve = percentile_curve(corrected)
        summary.corrected_hdr = encode_histogram(corrected) if keep_histograms else ""
    return summary
