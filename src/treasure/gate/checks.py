"""Checks of saved results against budgets: one `Check` per budget per backend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from treasure.budgets import Budgets, Limit
from treasure.growth.sweep import SweepResult
from treasure.metrics import Unmeasured, judge_growth
from treasure.quantities import Unit, format_quantity
from treasure.results import CompareResult, Result, RunResult

GateResult = Result | SweepResult  # what `treasure gate` reads: a replay, compare or sweep


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"  # measured and over what is allowed
    ERROR = "error"  # not measured, so the budget cannot hold


@dataclass(frozen=True)
class Check:
    kind: Literal["budget", "regression", "coverage"]
    name: str  # the metric, e.g. heap_peak_p99
    title: str
    backend: str
    scenario: str
    status: Status
    unit: Unit
    measured: float | None = None
    allowed: float | None = None
    detail: str = ""  # why it could not be judged, or how it was judged
    source: str = ""  # the result file it came from
    minimum: bool = False  # the budget is a lower limit (a sweep's knee)

    @property
    def label(self) -> str:
        # the check that a matching baseline run exists is named for the baseline itself
        if self.kind == "regression" and self.name != "baseline":
            return f"{self.name} vs baseline"
        return self.name

    @property
    def note(self) -> str:
        """The detail as a table's note column shows it."""
        if self.status is Status.ERROR and self.kind != "coverage" and self.measured is None:
            return f"not measured: {self.detail}"
        return self.detail

    @property
    def verdict(self) -> str:
        """One line a person reads in a CI log: measured vs allowed, or why not measured."""
        if self.status is Status.ERROR:
            return self.note
        if self.measured is None or self.allowed is None:
            return self.detail
        relation = ">" if self.status is Status.FAIL else "<="
        if self.minimum:
            relation = "<" if self.status is Status.FAIL else ">="
        line = (
            f"measured {format_quantity(self.measured, self.unit)} {relation} "
            f"allowed {format_quantity(self.allowed, self.unit)}"
        )
        return f"{line} ({self.detail})" if self.detail else line

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "backend": self.backend,
            "scenario": self.scenario,
            "status": self.status.value,
            "unit": self.unit.value,
            "measured": self.measured,
            "allowed": self.allowed,
            "verdict": self.verdict,
            "source": self.source,
        }


@dataclass(frozen=True)
class GateReport:
    checks: list[Check]
    sources: list[str] = field(default_factory=list)
    budgets: str = ""
    baseline: str = ""

    @property
    def passed(self) -> bool:
        return all(check.status is Status.PASS for check in self.checks)

    @property
    def broken(self) -> list[Check]:
        return [check for check in self.checks if check.status is not Status.PASS]

    def summary(self) -> str:
        total = len(self.checks)
        if self.passed:
            return f"all {total} checks hold"
        return f"{len(self.broken)} of {total} checks broken"

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "budgets": self.budgets,
            "baseline": self.baseline,
            "sources": self.sources,
            "checks": [check.to_dict() for check in self.checks],
        }


@dataclass(frozen=True)
class GateRun:
    """One backend's run from a result file, or why that backend has no run; or a sweep,
    judged whole (its budgets read its knees and steps, not one run's figures)."""

    source: str
    backend: str
    scenario: str
    run: RunResult | None
    failure: str = ""
    sweep: SweepResult | None = None


def scenario_of(run: RunResult) -> str:
    """The recording's scenario name, else the recording's file name without extension."""
    return run.recording.scenario or Path(run.recording.path).stem


def sweep_names(sweep: SweepResult) -> tuple[str, str]:
    """The backend and scenario a sweep is budgeted under: as its points' runs name them
    (`pyyaml-dom`, not `module:Class`), so a sweep and a replay share a budget table."""
    for point in sweep.points:
        if point.run is not None:
            return point.run.backend, scenario_of(point.run)
    return sweep.backend, Path(sweep.config.recording).stem


def gate_runs(results: Iterable[tuple[str, GateResult]]) -> list[GateRun]:
    """Every run of every result, plus each backend a compare could not run; a sweep as one."""
    found: list[GateRun] = []
    for source, result in results:
        if isinstance(result, SweepResult):
            found.append(GateRun(source, *sweep_names(result), None, sweep=result))
        elif isinstance(result, CompareResult):
            scenario = result.recording.scenario or Path(result.recording.path).stem
            found += [GateRun(source, run.backend, scenario_of(run), run) for run in result.runs]
            found += [
                GateRun(source, backend, scenario, None, f"the backend's run failed: {why}")
                for backend, why in result.failed.items()
            ]
        else:
            found.append(GateRun(source, result.backend, scenario_of(result), result))
    return found


def check_budgets(runs: Iterable[GateRun], budgets: Budgets) -> list[Check]:
    return [
        check_limit(gate_run, limit)
        for gate_run in runs
        for limit in budgets.for_run(gate_run.backend, gate_run.scenario)
        if (limit.metric.applies_to == "sweep") == (gate_run.sweep is not None)
    ]


def check_limit(gate_run: GateRun, limit: Limit) -> Check:
    measured: float | None = None
    allowed = limit.allowed
    detail = ""
    try:
        if gate_run.sweep is not None and limit.metric.read_sweep is not None:
            measured, detail = limit.metric.read_sweep(gate_run.sweep)
        elif gate_run.run is None:
            raise Unmeasured(gate_run.failure)
        else:
            measured = limit.metric.read(gate_run.run)
    except Unmeasured as exc:
        status, detail = Status.ERROR, exc.reason
    else:
        holds = measured >= allowed if limit.metric.minimum else measured <= allowed
        status = Status.PASS if holds else Status.FAIL
        if limit.metric.flat_ok and gate_run.run is not None:  # judged on the interval
            holds, allowed, detail = judge_growth(gate_run.run, limit.allowed, limit.flat)
            status = Status.PASS if holds else Status.FAIL
    return Check(
        kind="budget",
        name=limit.metric.name,
        title=limit.metric.title,
        backend=gate_run.backend,
        scenario=gate_run.scenario,
        status=status,
        unit=limit.metric.unit,
        measured=measured,
        allowed=allowed,
        detail=detail,
        source=gate_run.source,
        minimum=limit.metric.minimum,
    )
