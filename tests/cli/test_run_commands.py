"""replay, compare, report and backends driven through the CLI, as a user would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.results import CompareResult, RunResult, load

GT = "tests.groundtruth.timing"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        done = runner.invoke(cli, [name, "--help"])
        assert done.exit_code == 0, name
        if not isinstance(command, click.Group):
            assert "Example" in done.output, f"{name} --help shows no example"


def test_backends_json_lists_the_builtin_backends(runner: CliRunner) -> None:
    done = runner.invoke(cli, ["backends", "--json"])
    assert done.exit_code == 0
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["pyyaml-dom"]["available"] is True
    assert rows["pyyaml-dom"]["kind"] == "dom"
    assert rows["pyyaml-stream"]["kind"] == "stream"
    assert all(row["available"] or row["install"] for row in rows.values())


def test_replay_json_and_saved_result_agree(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 300)
    out = tmp_path / "run.json"
    done = runner.invoke(
        cli,
        ["replay", str(recording), "-b", "pyyaml-stream", "--warmup", "50", "--json", "-o",
         str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    saved = load(out)
    assert isinstance(saved, RunResult)
    assert printed["messages"] == saved.messages == 250
    assert saved.backend == "pyyaml-stream"
    assert saved.errors == {}


def test_replay_unknown_backend_is_one_line_and_exit_3(
    runner: CliRunner, make_recording: MakeRecording
) -> None:
    recording = make_recording([EVENT_MESSAGE])
    done = runner.invoke(cli, ["replay", str(recording), "-b", "no-such-parser"])
    assert done.exit_code == ExitCode.BAD_INPUT
    assert done.stdout == ""
    assert done.stderr.strip().startswith("Error: unknown backend 'no-such-parser'")
    assert len(done.stderr.strip().splitlines()) == 1


def test_replay_of_a_file_that_is_not_a_recording_exits_3(
    runner: CliRunner, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.trec"
    bogus.write_text("hello\n")
    done = runner.invoke(cli, ["replay", str(bogus)])
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "Traceback" not in done.output
    assert len(done.stderr.strip().splitlines()) == 1


def test_fail_fast_exits_5_and_says_where(runner: CliRunner, make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE, b"event_type: [", EVENT_MESSAGE])
    done = runner.invoke(cli, ["replay", str(recording), "--warmup", "0", "--fail-fast", "--json"])
    assert done.exit_code == ExitCode.TARGET_FAILED
    assert json.loads(done.stdout)["stopped_early"].startswith("--fail-fast: frame 1")


def test_compare_keeps_going_when_a_backend_dies(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a comparison where one backend kills its process
    recording = make_recording([EVENT_MESSAGE] * 100)
    out = tmp_path / "cmp.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", f"pyyaml-dom,{GT}:Crash", "--no-heap", "--warmup",
         "10", "-o", str(out)],
    )  # fmt: skip
    # then the survivor's figures are kept and the death is reported
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert [run.backend for run in saved.runs] == ["pyyaml-dom"]
    assert saved.runs[0].messages == 90
    assert "signal 6" in saved.failed[f"{GT}:Crash"]
    assert "pyyaml-dom" in done.stdout


def test_report_rerenders_a_saved_comparison(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 60)
    out = tmp_path / "cmp.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom,pyyaml-stream", "--no-heap", "--warmup",
         "0", "-o", str(out), "--json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["report", str(out)])
    assert shown.exit_code == 0
    assert "pyyaml-stream" in shown.stdout
    assert "1.00×" in shown.stdout  # the baseline against itself
    again = runner.invoke(cli, ["report", str(out), "--json"])
    assert json.loads(again.stdout) == json.loads(out.read_text())


def test_a_finished_compare_is_saved_whole_and_gates(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a comparison saved with -o, and a budget both backends meet
    recording = make_recording([EVENT_MESSAGE] * 60)
    out = tmp_path / "cmp.json"
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[budgets]\nerror_rate = "0%"\n')
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom,pyyaml-stream", "--no-heap",
         "--warmup", "0", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    # then the file on disk is the finished comparison, not the last copy saved on the way
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert saved.complete
    assert [run.backend for run in saved.runs] == ["pyyaml-dom", "pyyaml-stream"]
    # and the gate passes it
    gated = runner.invoke(cli, ["gate", str(out), "--budgets", str(budgets)])
    assert gated.exit_code == 0, gated.output


def test_report_of_a_result_from_another_schema_version_exits_3(
    runner: CliRunner, tmp_path: Path
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"kind": "run", "schema_version": 99}))
    done = runner.invoke(cli, ["report", str(old)])
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "schema version 99" in done.stderr


@pytest.mark.integration
def test_an_interrupted_compare_keeps_the_backends_it_finished(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a comparison whose second backend takes seconds
    recording = make_recording([EVENT_MESSAGE] * 20_000)
    out = tmp_path / "cmp.json"
    command = [
        sys.executable, "-m", "treasure.cli", "compare", str(recording), "--no-heap",
        "--warmup", "0", "-b", f"pyyaml-dom,{GT}:Spin400us", "-o", str(out), "--json",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # when it is interrupted as soon as the first backend's figures are on disk
    while not out.exists() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    # then the file holds the finished backend, whole
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert [run.backend for run in saved.runs] == ["pyyaml-dom"]
    assert saved.runs[0].messages == 20_000
    assert not saved.complete


@pytest.mark.integration
def test_a_hanging_backend_is_killed_at_the_pass_timeout_and_compare_goes_on(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 50)
    out = tmp_path / "cmp.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", f"{GT}:Hang,pyyaml-dom", "--no-heap", "--warmup", "0",
         "--pass-timeout", "3", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert [run.backend for run in saved.runs] == ["pyyaml-dom"]
    assert "killed after the 3 s pass timeout" in saved.failed[f"{GT}:Hang"]
