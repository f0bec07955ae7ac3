"""Coverage checks: a result the gate judges must cover what it claims to.

Per run: it measured every frame its recording holds (after the warm-up, up to `--limit`)
and did not stop early; per comparison: it finished. Each failure is an error check. A run that
measured less, a compare that was killed, or a result with no run at all is an error:
budgets checked on part of the traffic would pass what the rest might break.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from treasure.budgets import Budgets
from treasure.gate.checks import Check, GateResult, GateRun, Status
from treasure.growth.sweep import SweepResult
from treasure.quantities import Unit
from treasure.results import CompareResult, RunResult

COVERAGE = "coverage"
SWEEP_COVERAGE = "sweep_coverage"
TITLES = {
    COVERAGE: "frames measured of the recording",
    SWEEP_COVERAGE: "points measured of the sweep",
    "budget_table": "budget tables that name a backend of the results",
}


def _check(gate_run: GateRun, status: Status, detail: str, measured: float | None = None,
           allowed: float | None = None, name: str = COVERAGE) -> Check:  # fmt: skip
    return Check(
        kind="coverage",
        name=name,
        title=TITLES[name],
        backend=gate_run.backend,
        scenario=gate_run.scenario,
        status=status,
        unit=Unit.COUNT,
        measured=measured,
        allowed=allowed,
        detail=detail,
        source=gate_run.source,
    )


def expected_messages(run: RunResult) -> int | None:
    """How many messages the run should have measured, or None when it cannot be told."""
    recorded = run.recording.frames_in_recording
    limit = run.config.limit
    if recorded is None:
        return limit if limit is not None and run.messages >= limit else None
    expected = max(0, recorded - run.config.warmup)
    return min(expected, limit) if limit is not None else expected


def sweep_coverage(gate_run: GateRun, sweep: SweepResult) -> Check:
    """A sweep covers what it claims when it finished and every point was measured: a knee
    fitted without a failed point (or past an interrupted sweep's last) may sit elsewhere."""
    asked = len(sweep.points)
    measured = len(sweep.measured)
    if not sweep.complete:
        reason = (
            f"the sweep did not finish (killed or interrupted): a partial result, "
            f"{measured:,} of the points it saved measured"
        )
        return _check(gate_run, Status.ERROR, reason, measured, name=SWEEP_COVERAGE)
    if sweep.failed:
        failed = "; ".join(
            f"{sweep.position(point):,} {'users' if sweep.axis == 'users' else 'msg/s'}: "
            f"{point.error}"
            for point in sweep.failed
        )
        reason = f"{len(sweep.failed)} of {asked} points failed, fitted without them ({failed})"
        return _check(gate_run, Status.ERROR, reason, measured, asked, name=SWEEP_COVERAGE)
    if not measured:
        return _check(gate_run, Status.ERROR, "the sweep holds no point", 0, name=SWEEP_COVERAGE)
    return _check(gate_run, Status.PASS, f"{measured} points", measured, asked, SWEEP_COVERAGE)


def run_coverage(gate_run: GateRun) -> Check:
    if gate_run.sweep is not None:
        return sweep_coverage(gate_run, gate_run.sweep)
    run = gate_run.run
    if run is None:
        return _check(gate_run, Status.ERROR, gate_run.failure)
    recorded = run.recording.frames_in_recording
    of = f" of the {recorded:,} frames the recording holds" if recorded is not None else ""
    if run.stopped_early:
        reason = f"the run stopped early ({run.stopped_early}): measured {run.messages:,}{of}"
        return _check(gate_run, Status.ERROR, reason, run.messages, recorded)
    if run.messages <= 0:
        return _check(gate_run, Status.ERROR, f"no message was measured{of}", 0, recorded)
    expected = expected_messages(run)
    if expected is None:
        reason = (
            f"measured {run.messages:,} messages, but the result does not say how many "
            "frames its recording holds (replay it with this treasure)"
        )
        return _check(gate_run, Status.ERROR, reason, run.messages)
    if run.messages < expected:
        reason = (
            f"measured {run.messages:,} messages of the {expected:,} it should have ({_holds(run)})"
        )
        return _check(gate_run, Status.ERROR, reason, run.messages, expected)
    return _check(gate_run, Status.PASS, f"{run.messages:,} messages{of}", run.messages, expected)


def _holds(run: RunResult) -> str:
    text = f"{run.recording.frames_in_recording:,} frames in the recording"
    if run.config.warmup:
        text += f", {run.config.warmup:,} of them warm-up"
    if run.config.limit is not None:
        text += f", --limit {run.config.limit:,}"
    return text


def result_coverage(source: str, result: GateResult) -> list[Check]:
    """An error for a comparison that did not finish (its file was saved along the way)."""
    if not isinstance(result, CompareResult) or result.complete:
        return []
    finished = [run.backend for run in result.runs] + list(result.failed)
    pending = result.backends[len(finished) :]  # run in order; a run's name may differ
    gate_run = GateRun(source, ", ".join(pending) or "(compare)", result.recording.scenario, None)
    reason = (
        f"the comparison did not finish (killed or interrupted): a partial result, "
        f"backends done: {', '.join(finished) or 'none'}"
        + (f"; never run: {', '.join(pending)}" if pending else "")
    )
    return [_check(gate_run, Status.ERROR, reason)]


def coverage_checks(
    results: Sequence[tuple[str, GateResult]], runs: Sequence[GateRun]
) -> list[Check]:
    """The coverage errors: a run that covers its recording adds no check of its own (the
    budgets on it are the checks), so a report counts one check per budget per backend."""
    checks = [check for source, result in results for check in result_coverage(source, result)]
    checks += [check for check in map(run_coverage, runs) if check.status is not Status.PASS]
    if not runs:
        sources = ", ".join(source for source, _ in results)
        checks.append(_check(GateRun(sources, "(none)", "", None), Status.ERROR,
                             "the results hold no run: nothing to check"))  # fmt: skip
    return checks


def budget_table_checks(runs: Sequence[GateRun], budgets: Budgets) -> list[Check]:
    """An error for each backend a budget table names that no result holds: a typo in a
    backend's name (or a backend left out of the comparison) would leave its budgets
    checked on nothing while the other backends pass."""
    if not runs:
        return []  # the results hold no run: that error says it all
    present = sorted({run.backend for run in runs})
    named = {*budgets.backends, *(backend for backend, _ in budgets.backend_scenarios)}
    sources = ", ".join(sorted({run.source for run in runs}))
    checks = []
    for backend in sorted(named - set(present)):
        near = difflib.get_close_matches(backend, present, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        detail = (
            f"{budgets.source or 'the budget file'} has budgets for backend {backend}{hint}, "
            f"but no result holds it (results hold: {', '.join(present)}): its budgets "
            "were checked on nothing"
        )
        gate_run = GateRun(sources, backend, "", None)
        checks.append(_check(gate_run, Status.ERROR, detail, name="budget_table"))
    return checks
