"""The CI gate: saved results against budgets and a baseline, as checks that pass or break."""

from __future__ import annotations

from collections.abc import Sequence

from treasure.budgets import Budgets
from treasure.gate.checks import (
    Check,
    GateReport,
    GateResult,
    GateRun,
    Status,
    check_budgets,
    gate_runs,
)
from treasure.gate.coverage import budget_table_checks, coverage_checks
from treasure.gate.regression import (
    RatioEstimate,
    bootstrap_ratio_of_medians,
    check_regressions,
)
from treasure.quantities import Unit
from treasure.results import Result, runs_of

__all__ = [
    "Check",
    "GateReport",
    "GateResult",
    "GateRun",
    "RatioEstimate",
    "Status",
    "bootstrap_ratio_of_medians",
    "check_budgets",
    "check_regressions",
    "gate_runs",
    "run_gate",
]


def run_gate(
    results: Sequence[tuple[str, GateResult]],
    budgets: Budgets,
    baseline: tuple[str, Result] | None = None,
) -> GateReport:
    """Every budget check, then every regression check when a baseline is given (a sweep
    is held to its budgets only: a baseline holds runs)."""
    runs = gate_runs(results)
    checks = check_budgets(runs, budgets)
    if baseline is not None:
        replays = [gate_run for gate_run in runs if gate_run.sweep is None]
        checks += check_regressions(replays, runs_of(baseline[1]), budgets.regression)
    if runs and not checks:
        checks.append(nothing_checked(runs, budgets))
    return GateReport(
        checks=coverage_checks(results, runs) + budget_table_checks(runs, budgets) + checks,
        sources=[source for source, _ in results],
        budgets=budgets.source,
        baseline=baseline[0] if baseline else "",
    )


def nothing_checked(runs: Sequence[GateRun], budgets: Budgets) -> Check:
    """An error, not a pass: no budget of the file applies to any run of the results."""
    backends = ", ".join(sorted({run.backend for run in runs}))
    scenarios = ", ".join(sorted({run.scenario for run in runs}))
    return Check(
        kind="coverage",
        name="nothing_checked",
        title="budgets that apply to these results",
        backend=backends,
        scenario=scenarios,
        status=Status.ERROR,
        unit=Unit.COUNT,
        detail=(
            f"no budget in {budgets.source or 'the budget file'} applies to backends "
            f"{backends} on scenarios {scenarios}: nothing was checked"
        ),
        source=", ".join(sorted({run.source for run in runs})),
    )
