"""`treasure replay` and `compare` against live targets, through the command line."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.targets.conftest import Served

from treasure.cli import cli
from treasure.metrics import Unmeasured, metric
from treasure.results import CompareResult, RunResult, load

pytestmark = pytest.mark.integration


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_replay_behind_a_unix_socket_records_the_target(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 120)
    out = tmp_path / "served.json"
    result = runner.invoke(
        cli,
        ["replay", str(recording), "-b", "pyyaml-dom", "--transport", "unix",
         "--pace", "rate:400/s", "--connections", "2", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = load(out)
    assert isinstance(run, RunResult)
    assert run.backend == "pyyaml-dom@unix"
    assert run.config is not None
    assert (run.config.transport, run.config.connections) == ("unix", 2)
    assert run.target is not None
    # the default 50 warm-up messages are sent first and not measured, as in process
    assert (run.target.sent, run.target.routed, run.target.connections) == (70, 70, 2)
    assert run.messages == 70
    assert run.latency is not None
    assert run.latency.corrected is not None
    assert metric("latency_corrected_p99").read(run) == run.latency.corrected.p99
    assert run.target.process is not None
    assert metric("target_rss_peak").read(run) == run.target.process.rss_peak_bytes > 0
    growth = metric("target_rss_growth_per_request").read(run)
    assert growth == run.target.process.rss_growth_per_request_bytes
    shown = runner.invoke(cli, ["report", str(out)])
    assert shown.exit_code == 0
    assert "scheduled / sent / answered" in shown.output
    assert "70 / 70 / 70" in shown.output
    assert run.recording.payload_bytes_measured == 70 * len(EVENT_MESSAGE)  # what was sent
    if run.target.sender == "native":
        assert "late sends behind the target's full socket" in shown.output


def test_target_metrics_are_unmeasured_in_process(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    out = tmp_path / "inproc.json"
    recording = make_recording([EVENT_MESSAGE] * 20)
    result = runner.invoke(cli, ["replay", str(recording), "--warmup", "0", "-o", str(out)])
    assert result.exit_code == 0, result.output
    run = load(out)
    assert isinstance(run, RunResult)
    with pytest.raises(Unmeasured, match="no target process"):
        metric("target_rss_peak").read(run)


def test_replay_exits_5_with_an_account_when_the_target_dies(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording, served: list[Served]
) -> None:
    socket_path = tmp_path / "doomed.sock"
    target = Served("pyyaml-dom", "--unix", str(socket_path))
    served.append(target)
    pid = target.process.pid
    killer = threading.Timer(1.0, lambda: os.kill(pid, signal.SIGKILL))
    killer.start()
    out = tmp_path / "died.json"
    try:
        result = runner.invoke(
            cli,
            ["replay", str(make_recording([EVENT_MESSAGE] * 2000)), "--target",
             f"unix:{socket_path}", "--target-pid", str(pid), "--pace", "rate:200/s",
             "--warmup", "0",
             "-o", str(out)],
        )  # fmt: skip
    finally:
        killer.cancel()
    assert result.exit_code == 5
    assert f"the target (pid {pid}) exited during the run" in result.output
    assert "of 2000" in result.output
    saved = load(out)  # what was measured before the death is kept
    assert isinstance(saved, RunResult)
    assert saved.target is not None
    assert 0 < saved.target.answered < 2000
    assert saved.stopped_early.startswith(f"unix:{socket_path}")


def test_compare_puts_each_transport_beside_the_in_process_run(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    out = tmp_path / "hop.json"
    recording = make_recording([EVENT_MESSAGE] * 60)
    result = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom", "--transport", "inproc,unix,tcp",
         "--no-heap", "--warmup", "0", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    compared = load(out)
    assert isinstance(compared, CompareResult)
    assert [run.backend for run in compared.runs] == [
        "pyyaml-dom", "pyyaml-dom@unix", "pyyaml-dom@tcp"
    ]  # fmt: skip
    assert [run.messages for run in compared.runs] == [60, 60, 60]
    assert compared.runs[0].target is None
    assert all(run.target is not None for run in compared.runs[1:])


def test_replay_speaks_json_lines_to_a_served_backend(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    out = tmp_path / "lines.json"
    recording = make_recording([EVENT_MESSAGE, b"- a list\n"] * 30)
    result = runner.invoke(
        cli,
        ["replay", str(recording), "--transport", "tcp", "--framing", "lines", "--warmup", "0",
         "--pace", "rate:300/s", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = load(out)
    assert isinstance(run, RunResult)
    assert run.target is not None
    assert (run.target.framing, run.target.sender) == ("lines", "python")
    assert (run.target.routed, run.target.errors) == (30, {"schema": 30})


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--transport", "pigeon"], "transport"),
        (["--connections", "0"], "connections"),
    ],
)
def test_bad_target_options_are_usage_errors(
    runner: CliRunner, make_recording: MakeRecording, options: list[str], problem: str
) -> None:
    result = runner.invoke(cli, ["replay", str(make_recording([EVENT_MESSAGE])), *options])
    assert result.exit_code == 2
    assert problem in result.output


def test_a_bad_target_pace_is_one_line(runner: CliRunner, make_recording: MakeRecording) -> None:
    result = runner.invoke(
        cli,
        ["replay", str(make_recording([EVENT_MESSAGE])), "--transport", "unix",
         "--pace", "ramp:fast", "--warmup", "0"],
    )  # fmt: skip
    assert result.exit_code == 3
    assert "unknown pace 'ramp:fast'" in result.output
    assert "Traceback" not in result.output


def test_a_spawned_target_that_exits_before_listening_is_exit_5(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    result = runner.invoke(
        cli,
        ["replay", str(make_recording([EVENT_MESSAGE] * 5)), "--target",
         f"unix:{tmp_path / 'never.sock'}", "--spawn", "sh -c 'echo no config >&2; exit 7'",
         "--warmup", "0", "--pace", "rate:100/s", "--artefacts", str(tmp_path / "art")],
    )  # fmt: skip
    assert result.exit_code == 5
    assert "the target exited with 7 before listening: no config" in result.output
    assert (tmp_path / "art" / "target-stderr.log").read_text() == "no config\n"


def test_an_attached_pid_that_does_not_exist_is_bad_input(
    runner: CliRunner, tmp_path: Path, make_recording: MakeRecording
) -> None:
    result = runner.invoke(
        cli,
        ["replay", str(make_recording([EVENT_MESSAGE] * 5)), "--target",
         f"unix:{tmp_path / 'r.sock'}", "--target-pid", "999999999", "--warmup", "0",
         "--pace", "rate:100/s"],
    )  # fmt: skip
    assert result.exit_code == 3
    assert "--target-pid 999999999: no such process" in result.output
