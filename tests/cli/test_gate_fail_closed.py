"""`treasure gate` never passes on nothing: each case here is a result or budget file that
once passed (exit 0) and must now exit non-zero, saying why."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner, Result
from tests.builders import KIB, comparison, recording_of
from tests.cli.test_gate_cli import run_of, saved

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.recordings import RecordingWriter, encode_frame, open_recording
from treasure.results import CompareResult, RssSummary, load

REPO = Path(__file__).resolve().parents[2]
BUDGET = '[budgets]\nheap_peak_p50 = "32 KiB"\n'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # ground-truth backends for the workers
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "treasure.toml").write_text(BUDGET)
    return tmp_path


def gate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["gate", *args])


def broken_lines(outcome: Result) -> list[str]:
    return [line for line in outcome.stdout.splitlines() if line.startswith("BROKEN ")]


# --- results that cover nothing, or less than they claim -------------------------------------


def test_a_result_with_no_runs_is_an_error(workdir: Path) -> None:
    empty = comparison(recording=recording_of(), baseline="lean")
    outcome = gate(saved(workdir / "cmp.json", empty))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "the results hold no run: nothing to check" in outcome.stdout
    assert "checks hold" not in outcome.stdout


def test_a_budget_that_applies_to_no_run_checks_nothing_and_is_an_error(workdir: Path) -> None:
    # given budgets only for a backend the result does not hold (a typo of its name)
    (workdir / "treasure.toml").write_text('[budgets.backend.rust-sred]\nheap_peak_p50 = "4 KiB"\n')
    outcome = gate(saved(workdir / "run.json", run_of("rust-serde", 2 * KIB)))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    table, nothing = broken_lines(outcome)
    assert "budgets for backend rust-sred (did you mean rust-serde?)" in table
    assert "no budget in treasure.toml applies to backends rust-serde" in nothing
    assert "nothing was checked" in nothing


def test_a_budget_table_for_a_backend_no_result_holds_is_an_error(workdir: Path) -> None:
    # given every backend within the defaults, and a table for one the results lack (a typo)
    (workdir / "treasure.toml").write_text(
        BUDGET + '[budgets.backend.rust-sred]\nheap_peak_p50 = "4 KiB"\n'
        '[budgets.backend.rust-events.scenario.smoke]\nheap_peak_p50 = "4 KiB"\n'
    )
    both = comparison(run_of("lean", 16 * KIB), run_of("rust-serde", 2 * KIB))
    # when the comparison is gated
    outcome = gate(saved(workdir / "cmp.json", both), "--json")
    # then it fails (exit 4): one error per absent backend, naming it, beside the passes
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    checks = json.loads(outcome.stdout)["checks"]
    errors = {c["backend"]: c["verdict"] for c in checks if c["status"] == "error"}
    assert sorted(errors) == ["rust-events", "rust-sred"]
    assert "did you mean rust-serde?" in errors["rust-sred"]
    assert "results hold: lean, rust-serde" in errors["rust-events"]
    assert "checked on nothing" in errors["rust-events"]
    assert [c["backend"] for c in checks if c["status"] == "pass"] == ["lean", "rust-serde"]


def test_a_budget_on_a_metric_no_result_carries_is_an_error(workdir: Path) -> None:
    # given a budget on the target's RSS, for results of in-process runs (no target)
    (workdir / "treasure.toml").write_text(BUDGET + 'target_rss_peak = "1 GiB"\n')
    both = comparison(run_of("lean", 16 * KIB), run_of("rust-serde", 2 * KIB))
    # when gated
    outcome = gate(saved(workdir / "cmp.json", both))
    # then each run's check of it is an error saying what is missing (exit 4)
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    lines = broken_lines(outcome)
    assert len(lines) == 2
    assert all("no target process was sampled" in line for line in lines)


def test_a_partial_heap_figure_is_an_error_saying_what_it_covers(workdir: Path) -> None:
    # given a run whose heap pass stopped at its capture's disk budget
    run = run_of("lean", 16 * KIB)
    assert run.heap is not None
    reason = "the capture reached its disk budget: the heap pass stopped after 40 messages"
    run.heap.partial, run.heap.partial_reason = True, reason
    # when gated on a heap budget it would pass
    outcome = gate(saved(workdir / "run.json", run))
    # then the check is an error naming the reason (exit 4), never a pass
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    [line] = broken_lines(outcome)
    assert f"heap figures partial: {reason}" in line


def test_a_partial_compare_result_is_an_error(workdir: Path) -> None:
    partial = msgspec.structs.replace(comparison(run_of("lean", 16 * KIB)), complete=False)
    outcome = gate(saved(workdir / "cmp.json", partial), "--json")
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    checks = json.loads(outcome.stdout)["checks"]
    assert [c["status"] for c in checks] == ["error", "pass"]
    assert "did not finish" in checks[0]["verdict"]
    assert "backends done: lean" in checks[0]["verdict"]


def test_a_run_measuring_fewer_frames_than_its_recording_holds_is_an_error(workdir: Path) -> None:
    run = run_of("lean", 16 * KIB)
    short = msgspec.structs.replace(run, messages=109, recording=msgspec.structs.replace(
        run.recording, messages_measured=109, frames_in_recording=2000))  # fmt: skip
    outcome = gate(saved(workdir / "run.json", short))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    [line] = broken_lines(outcome)
    warmup = run.config.warmup
    assert f"measured 109 messages of the {2000 - warmup:,} it should have" in line
    assert f"(2,000 frames in the recording, {warmup:,} of them warm-up)" in line


def test_a_result_that_cannot_say_what_its_recording_holds_is_an_error(workdir: Path) -> None:
    run = run_of("lean", 16 * KIB)
    unknown = msgspec.structs.replace(
        run, recording=msgspec.structs.replace(run.recording, frames_in_recording=None)
    )
    outcome = gate(saved(workdir / "run.json", unknown))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "does not say how many frames its recording holds" in broken_lines(outcome)[0]


def test_an_rss_growth_budget_on_too_few_samples_is_an_error(workdir: Path) -> None:
    (workdir / "treasure.toml").write_text('[budgets]\nrss_growth_per_message = "1 KiB"\n')
    run = msgspec.structs.replace(
        run_of("lean", 16 * KIB),
        rss=RssSummary(start_bytes=1, end_bytes=1, peak_bytes=1, growth_per_message_bytes=0.0,
                       samples=[(2000, 50 << 20)]),
    )  # fmt: skip
    outcome = gate(saved(workdir / "run.json", run))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    [line] = broken_lines(outcome)
    assert "not measured: too few RSS samples to measure growth (1 after warm-up" in line


# --- budget files that cannot fail -----------------------------------------------------------


@pytest.mark.parametrize(
    ("budget_text", "complaint"),
    [
        ('[budget]\nheap_peak_p50 = "32 KiB"\n',
         "unknown table [budget] (did you mean [budgets]?)"),
        ('[budgets.scenrio.smoke]\nheap_peak_p50 = "32 KiB"\n',
         "unknown table [budgets.scenrio] (did you mean [budgets.scenario]?)"),
        ('[budgets]\nheap_peek_p50 = "32 KiB"\n', "(did you mean heap_peak_p50?)"),
        ("[budgets]\nheap_peak_p50 = false\nerror_rate = false\n", "every one switched off"),
        ('[budgets]\nlatency_p99 = "1e999 ms"\n', "too large to be a finite number"),
        ("[budgets]\ngc_per_1k = inf\n", "must be a finite number"),
        ("[budgets]\ngc_per_1k = nan\n", "must be a finite number"),
        ('[budgets]\nlatency_p99 = "-5 ms"\n', "must not be negative"),
        ("[budgets]\ngc_per_1k = -1\n", "must not be negative"),
        ('[budgets]\nlatency_p99 = "0 ms"\n', "0 can never hold for latency_p99"),
        ('[budgets]\nrss_peak = "0 B"\n', "0 can never hold for rss_peak"),
        ('[budgets]\nerror_rate = "100%"\n', "a budget that cannot fail: error_rate"),
        ('[regression]\nheap_tolerance = "1e999%"\n', "too large to be a finite number"),
    ],
)  # fmt: skip
def test_a_budget_file_that_cannot_fail_is_exit_3(
    workdir: Path, budget_text: str, complaint: str
) -> None:
    (workdir / "treasure.toml").write_text(budget_text)
    args = [saved(workdir / "run.json", run_of("lean", 16 * KIB))]
    if budget_text.startswith("[regression]"):  # regression settings need a baseline to apply
        args += ["--baseline", saved(workdir / "base.json", run_of("lean", 16 * KIB))]
    outcome = gate(*args)
    assert outcome.exit_code == ExitCode.BAD_INPUT, outcome.output
    assert outcome.stdout == ""
    assert complaint in outcome.stderr
    assert outcome.stderr.count("\n") == 1


# --- end to end: real replays and a real killed compare --------------------------------------


def small_recording(path: Path, frames: int) -> Path:
    payload = b"event_type: move\nplayer_id: p-1\nsession_id: s-1\n"
    with RecordingWriter(path, metadata={"scenario": "e2e", "users": 2}) as writer:
        for index in range(frames):
            writer.write(index * 1_000_000, f"p-{index % 2}", payload)
    return path


def replay(recording: Path, out: Path, backend: str = "tests.groundtruth.timing:NoOp") -> None:
    outcome = CliRunner().invoke(
        cli, ["replay", str(recording), "-b", backend, "--warmup", "0", "-o", str(out), "--json"]
    )
    assert outcome.exit_code == ExitCode.OK, outcome.output


@pytest.mark.integration
def test_a_replay_of_a_recording_cut_at_a_frame_boundary_fails_the_gate(workdir: Path) -> None:
    # given a 2,000-frame recording cut after frame 108, exactly at a frame boundary
    whole = small_recording(workdir / "whole.trec", 2000)
    with open_recording(whole) as reader:
        start = reader.header.data_offset
    frame = len(encode_frame(0, "p-0", b"event_type: move\nplayer_id: p-1\nsession_id: s-1\n"))
    cut = workdir / "cut.trec"
    cut.write_bytes(whole.read_bytes()[: start + 109 * frame])
    (workdir / "treasure.toml").write_text('[budgets]\nerror_rate = "0%"\n')

    # when replayed (a real worker process) and gated
    replay(cut, workdir / "run.json")
    outcome = gate(str(workdir / "run.json"))

    # then the result says it measured 109 frames of an incomplete recording, and the gate errs
    run = load(workdir / "run.json")
    assert not isinstance(run, CompareResult)
    assert (run.messages, run.recording.frames_in_recording) == (109, None)
    assert "incomplete" in run.stopped_early
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert any("stopped early" in line and "measured 109" in line for line in broken_lines(outcome))


@pytest.mark.integration
def test_a_leak_over_a_short_run_is_an_error_not_a_pass(workdir: Path) -> None:
    # given a backend keeping 100 KiB per message, replayed over 300 messages (one RSS sample)
    recording = small_recording(workdir / "short.trec", 300)
    replay(recording, workdir / "run.json", "tests.groundtruth.timing:Leak100KiB")
    (workdir / "treasure.toml").write_text('[budgets]\nrss_growth_per_message = "1 KiB"\n')

    outcome = gate(str(workdir / "run.json"))

    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    [line] = broken_lines(outcome)
    assert "too few RSS samples" in line


@pytest.mark.integration
def test_the_result_of_a_killed_compare_fails_the_gate(workdir: Path) -> None:
    # given a compare of two paced backends writing its result after each one
    recording = small_recording(workdir / "paced.trec", 150)
    out = workdir / "cmp.json"
    command = [sys.executable, "-m", "treasure.cli", "compare", str(recording), "--no-heap",
               "-b", "tests.groundtruth.timing:NoOp,tests.groundtruth.timing:Spin100us",
               "--pace", "rate:100/s", "-o", str(out), "--json"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip

    # when it is killed once the first backend's figures are on disk
    while not out.exists() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    # then the file is a partial result, and gating it is an error
    partial = load(out)
    assert isinstance(partial, CompareResult)
    assert not partial.complete
    outcome = gate(str(out))
    assert outcome.exit_code == ExitCode.BUDGET_BROKEN
    assert "did not finish" in outcome.stdout
    assert "backends done: no-op; never run: tests.groundtruth.timing:Spin100us" in outcome.stdout
