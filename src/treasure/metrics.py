"""The metrics budgets can hold a run to, and where each is read from a RunResult."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from treasure.errors import BudgetError
from treasure.growth.knee import Knee
from treasure.growth.slope import GrowthEstimate
from treasure.growth.sweep import Axis, SweepResult, measured_pairs, metric_name
from treasure.quantities import Unit
from treasure.results import Distribution, HeapSummary, RunResult, TargetProcess


class Unmeasured(Exception):
    """A metric a result does not hold; a budget on it fails with this reason, never passes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    title: str
    read: Callable[[RunResult], float]  # raises Unmeasured
    zero_ok: bool = True  # False: a budget of 0 can never hold (every message takes time)
    ceiling: float | None = None  # the figure can never exceed it: a budget there cannot fail
    flat_ok: bool = False  # a budget may be "flat" (growth_per_message): judged by its verdict
    # a sweep's figure (`treasure sweep`): read from the SweepResult with how it was read;
    # a run's budgets do not apply to a sweep, nor a sweep's to a run
    read_sweep: Callable[[SweepResult], tuple[float, str]] | None = None
    minimum: bool = False  # a lower limit: the figure must be at least the budget

    @property
    def applies_to(self) -> Literal["run", "sweep"]:
        return "sweep" if self.read_sweep is not None else "run"


STATS = ("p50", "p90", "p99", "max", "mean")


def _stat(dist: Distribution, stat: str) -> float:
    return float(getattr(dist, stat))


def _heap_reader(attr: str, stat: str) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        dist = getattr(_heap(run), attr)
        if dist is None:
            raise Unmeasured(f"the heap pass recorded no {attr}")
        return _stat(dist, stat)

    return read


def _heap(run: RunResult) -> HeapSummary:
    if run.heap is None:
        raise Unmeasured("no heap pass in this result (replay it with the heap pass on)")
    if not run.heap.measurable:
        raise Unmeasured(f"heap not measurable: {run.heap.reason or 'no reason given'}")
    if run.heap.partial:  # figures of part of the run, or missing part of its heap
        raise Unmeasured(f"heap figures partial: {run.heap.partial_reason}")
    return run.heap


def _peak_at_users(run: RunResult) -> float:
    peak = _heap(run).peak_heap_at_users_bytes
    if peak is None:
        raise Unmeasured("the heap pass recorded no peak heap at N users")
    return float(peak)


def _latency_reader(corrected: bool, stat: str) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.latency is None:
            raise Unmeasured("no timing pass in this result")
        dist = run.latency.corrected if corrected else run.latency.uncorrected
        if dist is None:
            raise Unmeasured("no corrected latency: the run was not paced (--pace)")
        return _stat(dist, stat)

    return read


def _gc_reader(read_gc: Callable[[RunResult], float]) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.gc is None:
            raise Unmeasured("no GC figures in this result")
        return read_gc(run)

    return read


def _rss_reader(read_rss: Callable[[RunResult], float]) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.rss is None:
            raise Unmeasured("no RSS figures in this result")
        return read_rss(run)

    return read


MIN_RSS_GROWTH_SAMPLES = 3  # a slope needs points: one sample (under 1,000 messages) reads 0


def _growth_points(points: list[int], what: str) -> None:
    """Unmeasured unless the slope after warm-up (the first 10 % dropped) has enough points."""
    kept = set(points[len(points) // 10 :])
    if len(kept) < MIN_RSS_GROWTH_SAMPLES:
        raise Unmeasured(
            f"too few RSS samples to measure growth ({len(kept)} after warm-up, at least "
            f"{MIN_RSS_GROWTH_SAMPLES} needed: {what}): replay more messages"
        )


def _rss_growth(run: RunResult) -> float:
    rss = run.rss
    assert rss is not None
    _growth_points([index for index, _ in rss.samples], "one every 1,000 messages")
    if rss.growth_per_message_bytes is None:  # the probe says not measured, and why
        raise Unmeasured(rss.growth_reason or "RSS growth was not measured")
    return rss.growth_per_message_bytes


def _target_growth(process: TargetProcess) -> float:
    _growth_points([answered for _, answered, _ in process.samples], "sampled over time")
    return process.rss_growth_per_request_bytes


def _target_reader(
    read_process: Callable[[TargetProcess], float],
) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.target is None or run.target.process is None:
            raise Unmeasured("no target process was sampled (--spawn, --target-pid, --transport)")
        return read_process(run.target.process)

    return read


def _error_rate(run: RunResult) -> float:
    if run.messages <= 0:
        raise Unmeasured("no messages were measured")
    return run.error_count / run.messages


FLAT = "flat"


def _soak_growth(run: RunResult) -> GrowthEstimate:
    if run.soak is None:
        raise Unmeasured("no soak in this result (measure growth with `treasure soak`)")
    growth = run.soak.growth
    if growth is None:
        raise Unmeasured(
            f"the soak fitted no growth: {run.soak.heap_reason or run.soak.rss_reason}"
        )
    return growth


def _growth_upper(run: RunResult) -> float:
    """The upper bound of the growth's 95 % interval: a budget holds only beyond doubt."""
    return _soak_growth(run).high


def judge_growth(run: RunResult, allowed: float, flat: bool) -> tuple[bool, float, str]:
    """A growth budget read from the interval: `<= X` holds when its upper bound is at most
    X; "flat" only when the verdict is flat (the interval within ±resolution), never when
    the run cannot tell. (holds, allowed as judged, how)."""
    growth = _soak_growth(run)
    how = f"{growth.series}: {growth.reason}; verdict {growth.verdict}"
    if flat:
        return growth.verdict == "flat", growth.resolution, how
    return growth.high <= allowed, allowed, how


# --- sweeps ---------------------------------------------------------------------------------
# A sweep is gated on where its cost bends and on its steepest step between neighbouring
# points. A knee budget needs a knee: "linear throughout" or "too few points" is not
# measured (the knee, if any, lies beyond the points or between too few of them).

AXIS_WORDS = {"users": "users", "rate": "msg/s"}


def _not_a_run(run: RunResult) -> float:
    raise Unmeasured("a sweep's figure: gate the result of `treasure sweep`")


def _knee_words(knee: Knee, sweep: SweepResult) -> str:
    if knee.verdict == "knee" and knee.knee_at is not None:
        return f"knee at {knee.knee_at:,.0f} {AXIS_WORDS[sweep.axis]}"
    if knee.verdict == "linear throughout":
        last = max((x for x, _ in measured_pairs(sweep, knee.metric)), default=0)
        return f"linear throughout, up to {last:,} {AXIS_WORDS[sweep.axis]}"
    return f"{knee.verdict} ({knee.points} measured)"


def _on_axis(sweep: SweepResult, axis: Axis) -> None:
    if sweep.axis != axis:
        raise Unmeasured(f"a budget on a sweep over {axis}, and this sweep is over {sweep.axis}")


def _earliest_knee(axis: Axis) -> Callable[[SweepResult], tuple[float, str]]:
    def read(sweep: SweepResult) -> tuple[float, str]:
        _on_axis(sweep, axis)
        verdicts = "; ".join(
            f"{metric_name(knee.metric)}: {_knee_words(knee, sweep)}" for knee in sweep.knees
        )
        found = [knee for knee in sweep.knees if knee.verdict == "knee" and knee.knee_at]
        if not found:
            raise Unmeasured(f"no knee found to hold the budget to ({verdicts or 'no figure'})")
        earliest = min(found, key=lambda knee: knee.knee_at or 0.0)
        return earliest.knee_at or 0.0, f"earliest of {verdicts}"

    return read


def _steepest_step(field: str) -> Callable[[SweepResult], tuple[float, str]]:
    """The largest rise per user between neighbouring measured points."""

    def read(sweep: SweepResult) -> tuple[float, str]:
        _on_axis(sweep, "users")
        pairs = sorted(measured_pairs(sweep, field))
        steps = [
            ((y2 - y1) / (x2 - x1), x1, x2)
            for (x1, y1), (x2, y2) in itertools.pairwise(pairs)
            if x2 > x1
        ]
        if not steps:
            raise Unmeasured(
                f"{metric_name(field)} measured at {len({x for x, _ in pairs})} distinct user "
                "counts: a step needs 2"
            )
        rise, x1, x2 = max(steps)
        return rise, f"{metric_name(field)} from {x1:,} to {x2:,} users, steepest of {len(steps)}"

    return read


def _sweep_metrics() -> list[Metric]:
    return [
        Metric("knee_users_min", Unit.COUNT, "knee of cost per user (at least, in users)",
               _not_a_run, read_sweep=_earliest_knee("users"), minimum=True),
        Metric("knee_rate_min", Unit.COUNT, "knee of cost per msg/s (at least, in msg/s)",
               _not_a_run, read_sweep=_earliest_knee("rate"), minimum=True),
        Metric("step_heap_per_user", Unit.BYTES, "run peak heap per user, steepest step",
               _not_a_run, read_sweep=_steepest_step("peak_heap_bytes")),
        Metric("step_rss_per_user", Unit.BYTES, "peak RSS per user, steepest step",
               _not_a_run, read_sweep=_steepest_step("rss_peak_bytes")),
    ]  # fmt: skip


def _build_metrics() -> dict[str, Metric]:
    metrics: list[Metric] = []
    for attr, word, unit in (
        ("allocated_bytes", "allocated", Unit.BYTES),
        ("peak_bytes", "peak", Unit.BYTES),
        ("retained_bytes", "retained", Unit.BYTES),
        ("amplification", "amplification", Unit.TIMES),
    ):
        prefix = "amplification" if word == "amplification" else f"heap_{word}"
        title = "amplification" if word == "amplification" else f"heap per message, {word}"
        metrics += [
            Metric(f"{prefix}_{stat}", unit, f"{title} {stat}", _heap_reader(attr, stat))
            for stat in STATS
        ]
    metrics.append(Metric("peak_heap_at_users", Unit.BYTES, "peak heap at N users", _peak_at_users))
    for corrected, prefix, title in (
        (False, "latency", "latency"),
        (True, "latency_corrected", "latency (from intended send time)"),
    ):
        metrics += [
            Metric(
                f"{prefix}_{stat}",
                Unit.NANOSECONDS,
                f"{title} {stat}",
                _latency_reader(corrected, stat),
                zero_ok=False,
            )
            for stat in (*STATS, "p999")
        ]
    metrics += [
        Metric(
            "gc_per_1k",
            Unit.COUNT,
            "GC collections per 1k messages",
            _gc_reader(lambda run: run.gc.collections_per_1k if run.gc else 0.0),
        ),
        Metric(
            "gc_pause_p99",
            Unit.NANOSECONDS,
            "GC pause p99",
            _gc_reader(lambda run: float(run.gc.pause_p99_ns if run.gc else 0)),
        ),
        Metric(
            "gc_pause_max",
            Unit.NANOSECONDS,
            "GC pause max",
            _gc_reader(lambda run: float(run.gc.pause_max_ns if run.gc else 0)),
        ),
        Metric("error_rate", Unit.FRACTION, "error rate", _error_rate, ceiling=1.0),
        Metric(
            "rss_growth_per_message",
            Unit.BYTES,
            "RSS growth per message",
            _rss_reader(_rss_growth),
        ),
        Metric(
            "rss_peak",
            Unit.BYTES,
            "peak RSS",
            _rss_reader(lambda run: float(run.rss.peak_bytes if run.rss else 0)),
            zero_ok=False,
        ),
    ]
    metrics.append(
        Metric(
            "growth_per_message",
            Unit.BYTES,
            "growth per message (soak: upper bound of its 95 % interval)",
            _growth_upper,
            flat_ok=True,
        )
    )
    metrics += [
        Metric(
            "target_rss_peak",
            Unit.BYTES,
            "the target's peak RSS",
            _target_reader(lambda process: float(process.rss_peak_bytes)),
            zero_ok=False,  # a live process is always resident
        ),
        Metric(
            "target_rss_growth_per_request",
            Unit.BYTES,
            "the target's RSS growth per request",
            _target_reader(_target_growth),
        ),
    ]
    metrics += _sweep_metrics()
    return {metric.name: metric for metric in metrics}


METRICS: dict[str, Metric] = _build_metrics()


def metric(name: str) -> Metric:
    """The metric of this name; a BudgetError suggesting the nearest name otherwise."""
    found = METRICS.get(name)
    if found is None:
        near = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else " (see `treasure gate --help`)"
        raise BudgetError(f"unknown metric {name!r}{hint}")
    return found
