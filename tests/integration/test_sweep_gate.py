"""`treasure gate` on sweeps of ground truth (tests/groundtruth/spill.py): a cache that spills
at 120 players holds a knee budget below 120 users and breaks one above; its steepest step
(4 × 64 KiB per user past the spill) breaks a step ceiling the linear cache (64 KiB per
user) holds; the linear cache has no knee, so a knee budget on it is not measured, never a
pass; a sweep whose point died is not covered. Budgets sit in treasure.toml tables beside a
run's, and each kind applies only to its own results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.groundtruth.spill import LinearCache, SpillingCache, write_players_recording

import treasure
from treasure.cli import cli
from treasure.errors import ExitCode

pytestmark = pytest.mark.integration

PLAYERS = 200
SPILLING = "tests.groundtruth.spill:SpillingCache"
LINEAR = "tests.groundtruth.spill:LinearCache"
DIES = "tests.groundtruth.spill:DiesPastCapacity"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_players_recording(tmp_path_factory.mktemp("sweep-gate") / "players.trec", PLAYERS)


def swept(recording: Path, backend: str, users: list[int]) -> Path:
    output = recording.with_name(f"{backend.rpartition(':')[2]}.json")
    treasure.sweep(recording, backend, users=users, warmup=10, output=output)
    return output


@pytest.fixture(scope="module")
def spilling(recording: Path) -> Path:
    return swept(recording, SPILLING, [40, 80, 120, 160, 200])


@pytest.fixture(scope="module")
def linear(recording: Path) -> Path:
    return swept(recording, LINEAR, [40, 80, 160, 200])


def gate(result: Path, budgets: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    budget_file = tmp_path / "treasure.toml"
    budget_file.write_text(budgets)
    outcome = CliRunner().invoke(
        cli, ["gate", str(result), "--budgets", str(budget_file), "--json"]
    )
    assert "Traceback" not in outcome.output
    report = json.loads(outcome.stdout) if outcome.stdout.startswith("{") else {}
    return outcome.exit_code, report


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def test_a_knee_budget_holds_below_the_spill_and_breaks_above_it(
    spilling: Path, tmp_path: Path
) -> None:
    code, report = gate(spilling, "[budgets]\nknee_users_min = 100\n", tmp_path)
    assert code == ExitCode.OK, report
    knee = by_name(report)["knee_users_min"]
    assert knee["status"] == "pass"
    assert abs(knee["measured"] - SpillingCache.capacity) < 40
    assert knee["verdict"].startswith(f"measured {knee['measured']:g} >= allowed 100")

    code, report = gate(spilling, "[budgets]\nknee_users_min = 150\n", tmp_path)
    assert code == ExitCode.BUDGET_BROKEN
    knee = by_name(report)["knee_users_min"]
    assert knee["status"] == "fail"
    assert knee["verdict"].startswith(f"measured {knee['measured']:g} < allowed 150")
    assert "run peak heap: knee at 1" in knee["verdict"]


def test_the_steepest_step_breaks_a_ceiling_the_linear_cache_holds(
    spilling: Path, linear: Path, tmp_path: Path
) -> None:
    budgets = '[budgets]\nstep_heap_per_user = "128 KiB"\nstep_rss_per_user = "128 KiB"\n'
    code, report = gate(spilling, budgets, tmp_path)
    assert code == ExitCode.BUDGET_BROKEN
    for name in ("step_heap_per_user", "step_rss_per_user"):
        step = by_name(report)[name]
        assert step["status"] == "fail"
        # past the spill every user costs 4 blocks: 256 KiB per user, within page rounding
        assert step["measured"] == pytest.approx(4 * SpillingCache.block, rel=0.05)
        # one of the two steps past the spill, never one before it
        assert any(f"from {a} to {a + 40} users" in step["verdict"] for a in (120, 160)), step

    code, report = gate(linear, budgets, tmp_path)
    assert code == ExitCode.OK, report
    # the heap's steps are the block plus the session's own few bytes per user (~2.6 %);
    # RSS moves in steps of up to 2 MiB (a huge page, a fresh arena) within one 40-user step
    heap_step = by_name(report)["step_heap_per_user"]["measured"]
    assert heap_step == pytest.approx(LinearCache.block, rel=0.05)
    rss_step = by_name(report)["step_rss_per_user"]["measured"]
    assert 0.95 * LinearCache.block <= rss_step <= LinearCache.block + 2 * 2**20 / 40


def test_a_sweep_without_a_knee_is_not_measured_for_a_knee_budget(
    linear: Path, tmp_path: Path
) -> None:
    code, report = gate(linear, "[budgets]\nknee_users_min = 100\n", tmp_path)
    assert code == ExitCode.BUDGET_BROKEN
    knee = by_name(report)["knee_users_min"]
    assert (knee["status"], knee["measured"]) == ("error", None)
    assert "not measured: no knee found" in knee["verdict"]
    assert "linear throughout, up to 200 users" in knee["verdict"]


def test_a_run_budget_is_not_held_against_a_sweep_and_a_sweep_budget_not_against_a_run(
    spilling: Path, recording: Path, tmp_path: Path
) -> None:
    # given one table with a run's budget and a sweep's
    budgets = '[budgets.backend.spilling-cache]\nheap_peak_p99 = "1 B"\nknee_users_min = 100\n'
    code, report = gate(spilling, budgets, tmp_path)
    assert code == ExitCode.OK, report
    assert {check["name"] for check in report["checks"]} == {"knee_users_min"}
    # a replay's result under the same table: only the run's budget is checked
    run = tmp_path / "run.json"
    treasure.replay(recording, SPILLING, warmup=10, heap=True, heap_messages=20, output=run)
    code, report = gate(run, budgets, tmp_path)
    assert code == ExitCode.BUDGET_BROKEN
    assert {check["name"] for check in report["checks"]} == {"heap_peak_p99"}


def test_a_sweep_whose_point_died_is_not_covered(recording: Path, tmp_path: Path) -> None:
    died = swept(recording, DIES, [40, 80, 200])
    code, report = gate(died, '[budgets]\nstep_heap_per_user = "1 MiB"\n', tmp_path)
    assert code == ExitCode.BUDGET_BROKEN
    coverage = by_name(report)["sweep_coverage"]
    assert coverage["status"] == "error"
    assert "1 of 3 points failed, fitted without them (200 users: " in coverage["verdict"]
    assert by_name(report)["step_heap_per_user"]["status"] == "pass"  # its two good points


@pytest.mark.parametrize(
    ("budget", "says"),
    [
        ("knee_users_min = 0", "cannot fail"),
        ('knee_users_min = "12 ms"', "knee_users_min"),
        ("knee_user_min = 100", "did you mean knee_users_min?"),
        ('step_heap_per_user = "fast"', "step_heap_per_user"),
    ],
)
def test_a_bad_sweep_budget_is_a_bad_budget_file(
    spilling: Path, tmp_path: Path, budget: str, says: str
) -> None:
    budget_file = tmp_path / "bad.toml"
    budget_file.write_text(f"[budgets]\n{budget}\n")
    outcome = CliRunner().invoke(cli, ["gate", str(spilling), "--budgets", str(budget_file)])
    assert outcome.exit_code == ExitCode.BAD_INPUT, outcome.output
    assert says in outcome.output
    assert "Traceback" not in outcome.output


def test_the_gate_table_shows_a_sweep_budget_as_a_lower_limit(
    spilling: Path, tmp_path: Path
) -> None:
    budget_file = tmp_path / "treasure.toml"
    budget_file.write_text("[budgets]\nknee_users_min = 150\n")
    outcome = CliRunner().invoke(cli, ["gate", str(spilling), "--budgets", str(budget_file)])
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "BROKEN spilling-cache on players: knee of cost per user" in outcome.stdout
    assert "< allowed 150" in outcome.stdout
