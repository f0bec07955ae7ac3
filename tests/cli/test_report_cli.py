"""What `report`, `backends` and `gate` print, driven through the CLI as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.unit.report_results import comparison, run

from treasure.budgets import RegressionSettings
from treasure.cli import cli
from treasure.gate import GateReport
from treasure.gate.checks import gate_runs
from treasure.gate.regression import check_regressions
from treasure.gate.render import markdown
from treasure.report.rows import build_report
from treasure.results import save


@pytest.mark.parametrize("columns", ["80", "100"])
def test_report_at_the_terminal_width_keeps_every_figure_whole(
    tmp_path: Path, columns: str
) -> None:
    # given a saved comparison of every built-in backend
    saved = tmp_path / "cmp.json"
    save(comparison(), saved)
    # when `treasure report` prints it with COLUMNS set, as a terminal of that width does
    done = CliRunner(env={"COLUMNS": columns}).invoke(cli, ["report", str(saved)])
    # then it fits, and every cell of the report stands whole on a line
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    for cell in build_report(comparison()).cells():
        assert any(cell in line for line in lines), cell


def test_backends_says_how_the_heap_was_judged_once() -> None:
    # given the backends table without --check-heap
    done = CliRunner().invoke(cli, ["backends"])
    # then the explanation stands once under the table, not on every row
    assert done.exit_code == 0
    assert done.stdout.count("--check-heap") == 1
    assert done.stdout.count("measurable: declared") >= 2


def test_a_baseline_without_the_backend_is_labelled_as_such() -> None:
    # given a baseline that holds no run of the backend being gated
    current = gate_runs([("now.json", run("rust-serde", "rust", 20_000, 1_500))])
    baseline = [run("pyyaml-dom", "dom", 240_000, 98_500)]
    # when the regression checks run
    checks = check_regressions(current, baseline, RegressionSettings())
    # then the one check says what is missing, labelled plainly
    assert [check.label for check in checks] == ["baseline"]
    assert "no run of backend 'rust-serde'" in checks[0].detail
    assert "`baseline vs baseline`" not in markdown(GateReport(checks=checks))
