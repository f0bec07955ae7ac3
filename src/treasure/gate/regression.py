"""Regressions against a stored baseline.

Heap per message is nearly deterministic, so it is compared with a small relative tolerance
(plus a few bytes of slack so near-zero figures do not flap). Timings are noisy, so latency
is judged with a confidence interval: the ratio of medians of the per-block latency medians
(current ÷ baseline) is bootstrapped with a seeded RNG, and the check fails only when the
interval's lower bound lies above 1 + threshold: the run is slower beyond doubt *and* beyond
the noise a machine makes on its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from treasure.budgets import RegressionSettings
from treasure.gate.checks import Check, GateRun, Status
from treasure.metrics import METRICS, Unmeasured
from treasure.quantities import Unit, format_quantity
from treasure.results import RecordingInfo, RunResult

LATENCY_CHECK = "latency_block_medians"


@dataclass(frozen=True)
class RatioEstimate:
    """Point estimate and confidence interval of median(current) / median(baseline)."""

    ratio: float
    low: float
    high: float
    confidence: float


def bootstrap_ratio_of_medians(
    current: Sequence[float],
    baseline: Sequence[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> RatioEstimate:
    """Percentile bootstrap of the ratio of medians; the same inputs and seed always give
    the same interval, so a gate's verdict can be reproduced."""
    if not current or not baseline:
        raise ValueError("both samples need at least one value")
    if median(baseline) <= 0:
        raise ValueError("the baseline median is not positive")
    rng = random.Random(seed)
    n_current, n_baseline = len(current), len(baseline)
    ratios = sorted(
        median(rng.choices(current, k=n_current))
        / max(median(rng.choices(baseline, k=n_baseline)), 1e-12)
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2
    low = ratios[int(tail * resamples)]
    high = ratios[min(resamples - 1, int((1 - tail) * resamples))]
    return RatioEstimate(median(current) / median(baseline), low, high, confidence)


def check_regressions(
    runs: Iterable[GateRun], baseline: Sequence[RunResult], settings: RegressionSettings
) -> list[Check]:
    """The baseline decides what is compared: heap when its heap pass was measurable,
    latency when it kept block medians. The current run missing either is an error."""
    by_backend = {run.backend: run for run in baseline}
    checks: list[Check] = []
    for gate_run in runs:
        base = by_backend.get(gate_run.backend)
        problem = _mismatch(gate_run, base)
        if problem or gate_run.run is None or base is None:
            checks.append(_error(gate_run, "baseline", "baseline", problem or gate_run.failure))
            continue
        checks += _heap_checks(gate_run, gate_run.run, base, settings)
        if base.latency is not None and base.latency.block_medians_ns:
            checks.append(_latency_check(gate_run, gate_run.run, base, settings))
    return checks


def _mismatch(gate_run: GateRun, base: RunResult | None) -> str:
    if base is None:
        return f"the baseline has no run of backend {gate_run.backend!r}"
    if gate_run.run is None:
        return ""
    if gate_run.run.config.routing != base.config.routing:
        return (
            f"the baseline was routed by another spec ({base.config.routing}; this run "
            f"{gate_run.run.config.routing}): their figures measure different work"
        )
    return _recording_mismatch(gate_run.run.recording, base.recording)


def _recording_mismatch(ours: RecordingInfo, theirs: RecordingInfo) -> str:
    """Why two runs' figures are not of the same messages: another recording (by the frames
    each holds, when both runs read theirs to the end), or another part of one."""
    held = (ours.frames_in_recording, theirs.frames_in_recording)
    if None not in held and held[0] != held[1]:
        return (
            f"the baseline replayed another recording ({theirs.path}: {held[1]:,} frames; "
            f"this run {ours.path}: {held[0]:,} frames)"
        )
    measured = (ours.messages_measured, ours.payload_bytes_measured)
    if measured != (theirs.messages_measured, theirs.payload_bytes_measured):
        return (
            f"the baseline measured other messages ({theirs.messages_measured:,} messages, "
            f"{theirs.payload_bytes_measured:,} B of {theirs.path}; this run "
            f"{ours.messages_measured:,} messages, {ours.payload_bytes_measured:,} B of "
            f"{ours.path}): --limit, --warmup or the recording differ"
        )
    return ""


def _heap_checks(
    gate_run: GateRun, run: RunResult, base: RunResult, settings: RegressionSettings
) -> list[Check]:
    if base.heap is None or not base.heap.measurable:
        return []
    checks = []
    for name in settings.heap_metrics:
        metric = METRICS[name]
        title = f"{metric.title} vs baseline"
        try:
            before = metric.read(base)
        except Unmeasured:
            continue  # the baseline does not hold this figure: nothing to regress from
        try:
            now = metric.read(run)
        except Unmeasured as exc:
            checks.append(_error(gate_run, name, title, exc.reason, metric.unit))
            continue
        allowed = before * (1 + settings.heap_tolerance) + settings.heap_slack_bytes
        status = Status.PASS if now <= allowed else Status.FAIL
        detail = f"baseline {format_quantity(before, metric.unit)} + {settings.heap_tolerance:.1%}"
        checks.append(
            Check(
                "regression",
                name,
                title,
                gate_run.backend,
                gate_run.scenario,
                status,
                metric.unit,
                now,
                allowed,
                detail,
                gate_run.source,
            )
        )
    return checks


def _latency_check(
    gate_run: GateRun, run: RunResult, base: RunResult, settings: RegressionSettings
) -> Check:
    title = "latency vs baseline: lower CI bound of the ratio of block medians"
    current = run.latency.block_medians_ns if run.latency else []
    before = base.latency.block_medians_ns if base.latency else []
    different = _routed_differently(run, base)
    if different:
        return _error(gate_run, LATENCY_CHECK, title, different, Unit.TIMES)
    if len(current) < settings.min_blocks or len(before) < settings.min_blocks:
        reason = (
            f"too few latency blocks to judge ({len(current)} now, {len(before)} in the "
            f"baseline; at least {settings.min_blocks} each): replay more messages"
        )
        return _error(gate_run, LATENCY_CHECK, title, reason, Unit.TIMES)
    estimate = bootstrap_ratio_of_medians(
        current,
        before,
        resamples=settings.resamples,
        confidence=settings.confidence,
        seed=settings.seed,
    )
    allowed = 1 + settings.latency_threshold
    status = Status.FAIL if estimate.low > allowed else Status.PASS
    detail = (
        f"ratio {estimate.ratio:.2f}x, {estimate.confidence:.0%} CI "
        f"{estimate.low:.2f}-{estimate.high:.2f}x over {len(current)} vs {len(before)} blocks"
    )
    failed = sum(run.errors.values())
    if failed:  # the same messages failed in both (else _routed_differently said so)
        detail += f"; {failed} of {run.messages} messages failed in both, timed with the rest"
    return Check(
        "regression",
        LATENCY_CHECK,
        title,
        gate_run.backend,
        gate_run.scenario,
        status,
        Unit.TIMES,
        estimate.low,
        allowed,
        detail,
        gate_run.source,
    )


def _routed_differently(run: RunResult, base: RunResult) -> str:
    """Why a time ratio against the baseline would compare different work, or ""."""
    if not run.routed_digest or not base.routed_digest or run.routed_digest == base.routed_digest:
        return ""
    return (
        f"this run routed {run.routed_count} of {run.messages} messages, the baseline "
        f"{base.routed_count} of {base.messages}, not the same set: a time ratio between "
        "different work is not a regression figure"
    )


def _error(gate_run: GateRun, name: str, title: str, reason: str, unit: Unit = Unit.COUNT) -> Check:
    return Check(
        "regression",
        name,
        title,
        gate_run.backend,
        gate_run.scenario,
        Status.ERROR,
        unit,
        detail=reason,
        source=gate_run.source,
    )
