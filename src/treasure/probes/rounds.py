"""Interleaved rounds, the arithmetic: who goes first in each round, and the median of the
per-round ratios with a distribution-free 95 % interval.

Backends measured one after another each meet a different stretch of the machine's drift;
measured in rounds A B C, B C A, C A B, ... each round's ratio compares backends that ran
seconds apart, and the median over rounds ignores the rounds another job spoiled.

The interval is the order-statistic (binomial) interval of a median: with n independent
rounds, the k-th smallest and k-th largest ratios bracket the true median with probability
1 - 2·P(Binomial(n, ½) < k), whatever the ratios' distribution. It needs no resampling and
no assumption of normality; n = 6 is the fewest rounds for which it reaches 95 %.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TypeVar

CONFIDENCE = 0.95
FEWEST_ROUNDS = 6  # below this even the extreme ratios bracket the median less than 95 %
T = TypeVar("T")


def rotation(backends: Sequence[T], round_index: int) -> list[T]:
    """Round r starts with backend r mod N and keeps the order after it: each backend goes
    first, and after each other, equally often over N rounds."""
    if not backends:
        return []
    start = round_index % len(backends)
    return [*backends[start:], *backends[:start]]


def _below(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) < k)."""
    return sum(math.comb(n, i) for i in range(k)) / (1 << n)


def median_rank_bounds(n: int, confidence: float = CONFIDENCE) -> tuple[int, int, float] | None:
    """1-based ranks (low, high) of the order statistics bracketing the median with at
    least `confidence`, and the coverage they give; None when n is too small for it."""
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1 - 2 * _below(n, k)
        if coverage < confidence:
            break
        best = (k, n + 1 - k, coverage)
    return best


def median_interval(values: Sequence[float]) -> tuple[float, float, float, float] | None:
    """(median, low, high, coverage) of `values`; None when there are too few for 95 %."""
    bounds = median_rank_bounds(len(values))
    if bounds is None:
        return None
    ordered = sorted(values)
    low, high, coverage = bounds
    return statistics.median(ordered), ordered[low - 1], ordered[high - 1], coverage


def ratios(baseline: Sequence[float], other: Sequence[float]) -> list[float]:
    """Each round's speed ratio: the baseline's median time over the other's (above 1:
    the other is faster), as the comparison's speed-up column reads."""
    return [base / own for base, own in zip(baseline, other, strict=True) if base > 0 and own > 0]
