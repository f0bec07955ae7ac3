"""The spread of timing figures: a 95 % interval for every speed ratio and time per message.

Timings on shared machines move 10-15 % between identical runs, so a ratio without its
interval reads as a fact it is not. The interval comes from the gate's seeded bootstrap
over the latency block medians every result keeps: the same file always shows the same
interval, and the report and the gate judge noise the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from treasure.gate.regression import RatioEstimate, bootstrap_ratio_of_medians
from treasure.results import RunResult

MIN_BLOCKS = 3  # fewer block medians than this give no interval worth printing
RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Spread:
    """A figure with its 95 % interval."""

    value: float
    low: float
    high: float

    @property
    def noisy(self) -> bool:
        """The interval is wider than the difference from 1 that the ratio claims (it
        contains 1, or it is as wide as the gain itself)."""
        return self.low <= 1.0 <= self.high or (self.high - self.low) > abs(self.value - 1.0)


def _blocks(run: RunResult) -> list[int]:
    if run.latency is None or len(run.latency.block_medians_ns) < MIN_BLOCKS:
        return []
    return run.latency.block_medians_ns


def _spread(estimate: RatioEstimate) -> Spread:
    return Spread(estimate.ratio, estimate.low, estimate.high)


def time_per_message(run: RunResult) -> Spread | None:
    """The median time per message (ns) with its interval, from the block medians."""
    blocks = _blocks(run)
    if not blocks:
        return None
    # the ratio against a constant 1 ns is the median itself, bootstrapped
    return _spread(bootstrap_ratio_of_medians(blocks, [1], resamples=RESAMPLES, seed=SEED))


def speed_up(run: RunResult, baseline: RunResult) -> Spread | None:
    """How many times faster `run` handles a message than `baseline`, with its interval:
    median(baseline blocks) ÷ median(run blocks)."""
    ours, theirs = _blocks(run), _blocks(baseline)
    if not ours or not theirs or min(ours) <= 0:
        return None
    return _spread(bootstrap_ratio_of_medians(theirs, ours, resamples=RESAMPLES, seed=SEED))


def same_work(run: RunResult, baseline: RunResult) -> str:
    """Why a ratio of the two runs' times is not a speed-up, or "" when it is one: both
    must have measured the same messages and failed on the same ones."""
    if run.messages != baseline.messages:
        return f"measured {run.messages:,} messages against {baseline.messages:,}"
    if run.errors != baseline.errors:
        ours = run.messages - run.error_count
        theirs = baseline.messages - baseline.error_count
        return f"routed {ours:,} of {run.messages:,} messages, {baseline.backend} {theirs:,}"
    return ""
