"""One definition of a percentile for every figure treasure reports: the nearest rank.

The p-th percentile of n values is the value of rank ⌈p/100 · n⌉ (1-based, at least 1) in
ascending order: of 100 GC pauses p99 is the 99th, not the slowest; of 1,000
messages p99.9 is the 999th. The rank is computed in exact arithmetic, so 99.9 % of 1,000
is 999, never the 1,000th by a float's rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TypeVar

Value = TypeVar("Value", int, float)


def nearest_rank(count: int, percentile: float) -> int:
    """The 1-based rank of the `percentile`-th percentile among `count` ordered values."""
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile {percentile!r} is not within 0..100")
    exact = Fraction(str(percentile)) * count / 100  # str: 99.9 as written, not its float
    return min(count, max(1, math.ceil(exact)))


def percentile_of(ordered: Sequence[Value], percentile: float) -> Value:
    """The percentile of values sorted ascending (at least one)."""
    return ordered[nearest_rank(len(ordered), percentile) - 1]


def percentile_of_counts(counts: Iterable[tuple[int, int]], percentile: float) -> int:
    """The percentile of values given as (value, how many times) pairs, ascending by value;
    0 when nothing was counted."""
    pairs = list(counts)
    total = sum(count for _, count in pairs)
    if total == 0:
        return 0
    rank = nearest_rank(total, percentile)
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")
