"""The gate's sweep checks on sweep results built point by point (the knee fitted by
`growth.knee` as a sweep fits it): a knee budget on a sweep over the other axis, with too
few points, or on a sweep cut short."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping

from treasure.budgets import parse_budgets
from treasure.gate import GateReport, Status, run_gate
from treasure.growth.sweep import Axis, PointFigures, SweepPoint, SweepResult, knees_of
from treasure.results import ReplayConfig

KIB = 1024
CONFIG = ReplayConfig(backend="pyyaml-dom", recording="players.trec")
# 64 KiB per user up to 120 users, 256 KiB per user past them
BENT = {x: 64 * KIB * min(x, 120) + 256 * KIB * max(0, x - 120) for x in range(40, 201, 40)}


def figures(cost: float) -> PointFigures:
    return PointFigures(
        messages=10, errors=0, peak_heap_bytes=int(cost), rss_peak_bytes=int(cost),
        rss_growth_bytes=None, rss_growth_per_message_bytes=None, gc_per_1k=None,
        gc_pause_max_ns=None, latency_p99_ns=None, target_rss_peak_bytes=int(cost),
        latency_corrected_p99_ns=float(cost),
    )  # fmt: skip


def sweep_of(
    costs: Mapping[int, float], axis: Axis = "users", complete: bool = True
) -> SweepResult:
    points = [
        SweepPoint(
            users=x if axis == "users" else 0,
            users_held=x,
            frames=x,
            config=CONFIG,
            rate=x if axis == "rate" else 0,
            figures=figures(cost),
        )
        for x, cost in costs.items()
    ]
    sweep = SweepResult(
        created_at="", backend="pyyaml-dom", axis=axis, config=CONFIG, points=points,
        complete=complete,
    )  # fmt: skip
    sweep.knees = knees_of(sweep)
    return sweep


def gate(sweep: SweepResult, budget: str) -> GateReport:
    budgets = parse_budgets(tomllib.loads(f"[budgets]\n{budget}\n"), "treasure.toml")
    return run_gate([("sweep.json", sweep)], budgets)


def check(report: GateReport, name: str) -> tuple[Status, float | None, str]:
    found = [c for c in report.checks if c.name == name]
    assert len(found) == 1, report.checks
    return found[0].status, found[0].measured, found[0].verdict


def test_a_bent_sweep_holds_its_knee_to_a_lower_limit() -> None:
    sweep = sweep_of(BENT)
    assert [knee.knee_at for knee in sweep.knees] == [120, 120]

    assert check(gate(sweep, "knee_users_min = 120"), "knee_users_min")[:2] == (Status.PASS, 120)
    status, _, verdict = check(gate(sweep, "knee_users_min = 121"), "knee_users_min")
    assert status is Status.FAIL
    assert verdict.startswith("measured 120 < allowed 121")


def test_the_earliest_knee_of_the_figures_is_the_one_judged() -> None:
    # given RSS bending at 80 users and the run peak heap at 120
    sweep = sweep_of(BENT)
    for point, rss in zip(sweep.points, (40, 80, 320, 560, 800), strict=True):
        assert point.figures is not None
        point.figures.rss_peak_bytes = rss * KIB
    sweep.knees = knees_of(sweep)
    assert [knee.knee_at for knee in sweep.knees] == [120, 80]
    status, measured, verdict = check(gate(sweep, "knee_users_min = 100"), "knee_users_min")
    assert (status, measured) == (Status.FAIL, 80)
    assert "peak RSS: knee at 80 users" in verdict


def test_too_few_points_or_the_other_axis_is_not_measured_never_a_pass() -> None:
    few = sweep_of({40: 1.0, 80: 2.0, 120: 9.0})
    status, measured, verdict = check(gate(few, "knee_users_min = 10"), "knee_users_min")
    assert (status, measured) == (Status.ERROR, None)
    assert "too few points (3 measured)" in verdict

    rates = sweep_of(BENT, axis="rate")
    assert check(gate(rates, "knee_rate_min = 100"), "knee_rate_min")[0] is Status.PASS
    status, _, verdict = check(gate(rates, "knee_users_min = 10"), "knee_users_min")
    assert status is Status.ERROR
    assert "this sweep is over rate" in verdict


def test_a_sweep_cut_short_is_not_covered() -> None:
    report = gate(sweep_of(BENT, complete=False), "knee_users_min = 100")
    status, _, verdict = check(report, "sweep_coverage")
    assert status is Status.ERROR
    assert "the sweep did not finish" in verdict
    assert not report.passed


def test_a_flat_step_holds_a_ceiling_and_a_steep_one_breaks_it() -> None:
    sweep = sweep_of(BENT)
    status, measured, verdict = check(gate(sweep, 'step_heap_per_user = "64 KiB"'),
                                      "step_heap_per_user")  # fmt: skip
    assert (status, measured) == (Status.FAIL, 256 * KIB)
    assert "steepest of 4" in verdict
    holds = check(gate(sweep, 'step_heap_per_user = "256 KiB"'), "step_heap_per_user")
    assert holds[0] is Status.PASS
