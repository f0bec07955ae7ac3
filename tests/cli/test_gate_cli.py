"""`treasure gate` and `treasure baseline` driven through the CLI."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from tests.builders import KIB, comparison, heap_of, latency_of, run
from tests.conftest import EVENT_MESSAGE

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.results import CompareResult, RunResult, load, save


def run_of(backend: str, heap_bytes: float | None, latency_ns: float = 200_000) -> RunResult:
    rng = random.Random(backend)
    medians = [int(rng.gauss(latency_ns, latency_ns * 0.05)) for _ in range(40)]
    timeline = [(i, 4096 + i) for i in range(2000)]
    heap = heap_of(heap_bytes, timeline=timeline) if heap_bytes is not None else None
    latency = latency_of(medians, percentile_curve=[(i / 10, 1000 + i) for i in range(1000)],
                         histogram=[(1000 + i, 3) for i in range(60)])  # fmt: skip
    return run(backend, kind="test", library="groundtruth", library_version="0",
               latency=latency, heap=heap)  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "treasure.toml").write_text('[budgets]\nheap_peak_p50 = "32 KiB"\n')
    return tmp_path


def saved(path: Path, result: RunResult | CompareResult) -> str:
    save(result, path)
    return str(path)


def test_a_result_within_budget_exits_0(workdir: Path) -> None:
    # given a backend at 16 KiB per message against a 32 KiB budget in ./treasure.toml
    result = saved(workdir / "run.json", run_of("lean", 16 * KIB))
    # when gated
    outcome = CliRunner().invoke(cli, ["gate", result])
    # then it passes and says so
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "all 1 checks hold" in outcome.stdout
    assert outcome.stderr == ""


def test_a_broken_budget_exits_4_with_junit_markdown_and_the_step_summary(workdir: Path) -> None:
    # given a compare where one backend allocates twice its budget, and a GitHub step summary
    result = saved(workdir / "cmp.json", comparison(run_of("lean", 16 * KIB),
                                                    run_of("greedy", 64 * KIB)))  # fmt: skip
    step_summary = workdir / "summary.md"
    step_summary.write_text("earlier step\n")
    # when gated with every CI output
    outcome = CliRunner().invoke(
        cli,
        ["gate", result, "--budgets", "treasure.toml", "--junit", "out/report.xml",
         "--markdown", "out/gate.md"],
        env={"GITHUB_STEP_SUMMARY": str(step_summary)},
    )  # fmt: skip
    # then the exit code says a budget broke, and the broken one is named with its figures
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "BROKEN greedy on smoke: heap per message, peak p50: measured 64.0 KiB > allowed " \
           "32.0 KiB" in outcome.stdout  # fmt: skip
    assert outcome.stderr == ""
    suite = ET.parse(workdir / "out/report.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    markdown = (workdir / "out/gate.md").read_text()
    assert "1 of 2 checks broken" in markdown
    assert step_summary.read_text() == "earlier step\n" + markdown + "\n"


def test_json_output_holds_every_check(workdir: Path) -> None:
    result = saved(workdir / "run.json", run_of("greedy", 64 * KIB))
    outcome = CliRunner().invoke(cli, ["gate", result, "--json"])
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    report = json.loads(outcome.stdout)
    assert report["passed"] is False
    [check] = report["checks"]
    assert (check["backend"], check["name"], check["status"]) == ("greedy", "heap_peak_p50", "fail")
    assert (check["measured"], check["allowed"]) == (64 * KIB, 32 * KIB)


def test_a_heap_budget_without_a_heap_pass_breaks_the_gate(workdir: Path) -> None:
    result = saved(workdir / "run.json", run_of("timing-only", None))
    outcome = CliRunner().invoke(cli, ["gate", result])
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "not measured: no heap pass" in outcome.stdout


@pytest.mark.parametrize(
    ("budget_text", "complaint"),
    [
        ('[budgets]\nheap_peek_p50 = "32 KiB"\n', "unknown metric 'heap_peek_p50'"),
        ('[budgets]\nlatency_p99 = "12 parsecs"\n', "unknown unit 'parsecs'"),
        ("[regression]\nseed = 1\n", "no budgets under [budgets]"),
    ],
)
def test_a_bad_budget_file_is_one_line_and_exit_3(
    workdir: Path, budget_text: str, complaint: str
) -> None:
    (workdir / "treasure.toml").write_text(budget_text)
    result = saved(workdir / "run.json", run_of("lean", 16 * KIB))
    outcome = CliRunner().invoke(cli, ["gate", result])
    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert outcome.stdout == ""
    assert complaint in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_no_budgets_and_no_baseline_is_a_usage_error(workdir: Path) -> None:
    (workdir / "treasure.toml").unlink()
    result = saved(workdir / "run.json", run_of("lean", 16 * KIB))
    outcome = CliRunner().invoke(cli, ["gate", result])
    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert "no budgets" in outcome.stderr


def test_baseline_save_strips_and_gate_catches_a_slowdown(workdir: Path) -> None:
    # given a full result saved as a baseline
    full = saved(workdir / "cmp.json", comparison(run_of("a", 16 * KIB), run_of("b", 16 * KIB)))
    saving = CliRunner().invoke(cli, ["baseline", "save", full, "-o", "base/smoke.json"])
    assert saving.exit_code == ExitCode.OK, saving.output
    assert "wrote base/smoke.json" in saving.stdout
    assert (workdir / "base/smoke.json").stat().st_size < (workdir / "cmp.json").stat().st_size / 2
    # when the same figures are gated / then they pass
    same = CliRunner().invoke(cli, ["gate", full, "--baseline", "base/smoke.json"])
    assert same.exit_code == ExitCode.OK, same.output
    # when one backend is twice as slow / then the gate names it
    slower_b = comparison(run_of("a", 16 * KIB), run_of("b", 16 * KIB, latency_ns=400_000))
    slow = saved(workdir / "slow.json", slower_b)
    outcome = CliRunner().invoke(cli, ["gate", slow, "--baseline", "base/smoke.json"])
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "BROKEN b on smoke: latency vs baseline" in outcome.stdout
    assert "BROKEN a" not in outcome.stdout


def test_baseline_update_replaces_one_backend(workdir: Path) -> None:
    full = saved(workdir / "cmp.json", comparison(run_of("a", 16 * KIB), run_of("b", 16 * KIB)))
    assert CliRunner().invoke(cli, ["baseline", "save", full, "-o", "base.json"]).exit_code == 0
    rerun = saved(workdir / "b.json", run_of("b", 20 * KIB))
    outcome = CliRunner().invoke(cli, ["baseline", "update", rerun, "-o", "base.json"])
    assert outcome.exit_code == ExitCode.OK, outcome.output
    baseline = load(workdir / "base.json")
    assert isinstance(baseline, CompareResult)
    peaks = {run.backend: run.heap.peak_bytes.p50 for run in baseline.runs}  # type: ignore[union-attr]
    assert peaks == {"a": 16 * KIB, "b": 20 * KIB}


@pytest.mark.parametrize("args", [["gate", "--help"], ["baseline", "save", "--help"],
                                  ["baseline", "update", "--help"]])  # fmt: skip
def test_help_shows_an_example(args: list[str]) -> None:
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == ExitCode.OK
    assert "Example:" in outcome.stdout


# --- end to end: real replays of ground-truth backends, then the gate ------------------------

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small recording, and ground-truth backends importable by the worker processes."""
    from treasure.recordings import RecordingWriter

    monkeypatch.chdir(tmp_path)  # away from the repository's own treasure.toml
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path = tmp_path / "e2e.trec"
    with RecordingWriter(path, metadata={"scenario": "e2e", "users": 4}) as writer:
        for index in range(1050):
            writer.write(index * 1_000_000, f"p-{index % 4}", EVENT_MESSAGE)
    return path


def replay(recording: Path, backend: str, out: Path, *extra: str) -> None:
    outcome = CliRunner().invoke(
        cli, ["replay", str(recording), "-b", backend, "--warmup", "50", "-o", str(out), "--json",
              *extra],
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.OK, outcome.output


@pytest.mark.integration
def test_a_native_backend_allocating_twice_its_budget_fails_the_gate(
    recording: Path, tmp_path: Path
) -> None:
    native = pytest.importorskip("tests.groundtruth.native")
    # given a ground-truth backend that allocates a known amount per message, budgeted at half
    known = native.NativeAlloc64K.allocates
    spec = f"tests.groundtruth.native:{native.NativeAlloc64K.__name__}"
    replay(recording, spec, tmp_path / "run.json", "--heap", "--heap-messages", "300")
    budgets = tmp_path / "treasure.toml"
    budgets.write_text(f'[budgets]\nheap_allocated_p50 = "{known // 2} B"\n')
    # when gated
    junit = tmp_path / "report.xml"
    args = ["gate", str(tmp_path / "run.json"), "--budgets", str(budgets), "--junit", str(junit)]
    outcome = CliRunner().invoke(cli, [*args, "--json"])
    # then the build breaks on the known allocation, and JUnit says measured vs allowed
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    [check] = json.loads(outcome.stdout)["checks"]
    assert (check["status"], check["allowed"]) == ("fail", known // 2)
    assert known <= check["measured"] < known * 1.05  # the harness adds a few hundred bytes
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    [case] = list(suite.iter("testcase"))
    assert case.get("classname") == f"treasure.{native.NativeAlloc64K.name}.e2e"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == check["verdict"]
    assert " > allowed 32.0 KiB" in check["verdict"]


@pytest.mark.integration
def test_unchanged_timing_passes_and_a_twofold_slowdown_fails(
    recording: Path, tmp_path: Path
) -> None:
    # given a baseline of a backend spending 200 µs per message
    replay(recording, "tests.groundtruth.timing:Spin200us", tmp_path / "base-full.json")
    saving = CliRunner().invoke(
        cli, ["baseline", "save", str(tmp_path / "base-full.json"), "-o", str(tmp_path / "b.json")]
    )
    assert saving.exit_code == ExitCode.OK, saving.output
    # when the same backend runs again / then the gate holds
    replay(recording, "tests.groundtruth.timing:Spin200us", tmp_path / "same.json")
    same = CliRunner().invoke(
        cli, ["gate", str(tmp_path / "same.json"), "--baseline", str(tmp_path / "b.json")]
    )
    assert same.exit_code == ExitCode.OK, same.output
    # when that backend becomes twice as slow (the 400 µs spinner under the same name)
    replay(recording, "tests.groundtruth.timing:Spin400us", tmp_path / "slow.json")
    slow = load(tmp_path / "slow.json")
    assert isinstance(slow, RunResult)
    save(msgspec.structs.replace(slow, backend=load_run(tmp_path / "b.json").backend),
         tmp_path / "slow.json")  # fmt: skip
    outcome = CliRunner().invoke(
        cli, ["gate", str(tmp_path / "slow.json"), "--baseline", str(tmp_path / "b.json")]
    )
    # then the gate fails on latency against the baseline
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "latency vs baseline" in outcome.stdout


def load_run(path: Path) -> RunResult:
    result = load(path)
    assert isinstance(result, RunResult)
    return result
