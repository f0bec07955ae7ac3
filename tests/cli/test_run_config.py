"""One description of a run: options checked in the parent, recorded whole, rerun equal."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.hostile.backends import MARKER_ENV

from treasure.cli import cli
from treasure.errors import ConfigError, ExitCode
from treasure.results import CompareResult, ReplayConfig, RunResult, load

MARKER = "tests.hostile.backends:Marker"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--pace", "fast"), ("--pace", "rate:0/s"), ("--warmup", "-1"), ("--heap-messages", "0"),
     ("--pass-timeout", "0"), ("--in-flight", "0"), ("--cpu-rate", "0")],
)  # fmt: skip
def test_a_bad_option_is_a_usage_error_before_any_pass_starts(
    runner: CliRunner,
    make_recording: MakeRecording,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: str,
) -> None:
    # given a backend that leaves a file behind as soon as a pass starts it
    marker = tmp_path / "started"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    recording = make_recording([EVENT_MESSAGE] * 5)
    # when replay and compare are given an option value the run description refuses
    for command in (["replay", "-b", MARKER], ["compare", "-b", MARKER]):
        done = runner.invoke(cli, [*command, str(recording), option, value])
        # then it is a command-line error naming the option, and no pass ever started
        assert done.exit_code == ExitCode.USAGE, done.output
        assert f"Invalid value for '{option}'" in done.stderr
        assert "Traceback" not in done.output
        assert not marker.exists()


def test_the_library_refuses_what_the_command_line_refuses() -> None:
    with pytest.raises(ConfigError) as caught:
        ReplayConfig(backend="pyyaml-dom", recording="r.trec", pace="fast")
    assert caught.value.field == "pace"
    assert caught.value.exit_code == ExitCode.USAGE


def test_library_and_command_line_share_the_defaults(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 80)
    out = tmp_path / "run.json"
    done = runner.invoke(cli, ["replay", str(recording), "-o", str(out)])
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, RunResult)
    assert saved.config == ReplayConfig(backend="pyyaml-dom", recording=str(recording))
    assert saved.messages == 80 - ReplayConfig(backend="", recording="").warmup


def test_rerun_reproduces_the_recorded_configuration(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a replay run with options away from their defaults
    recording = make_recording([EVENT_MESSAGE] * 120)
    first, again, changed = tmp_path / "first.json", tmp_path / "again.json", tmp_path / "c.json"
    options = ["-b", "pyyaml-stream", "--warmup", "7", "--limit", "90", "--users", "3",
               "--keep", "record", "--in-flight", "2", "--pace", "rate:50000/s",
               "--pass-timeout", "60", "--heap-messages", "33"]  # fmt: skip
    done = runner.invoke(cli, ["replay", str(recording), *options, "-o", str(first)])
    assert done.exit_code == 0, done.output
    # when it is rerun from its result alone, and once more with one option changed
    done = runner.invoke(cli, ["replay", "--rerun", str(first), "-o", str(again)])
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["replay", "--rerun", str(first), "--limit", "9", "-o", str(changed)])
    assert done.exit_code == 0, done.output
    # then the rerun's configuration is the original's, and an option given wins
    original, rerun, edited = load(first), load(again), load(changed)
    assert isinstance(original, RunResult)
    assert isinstance(rerun, RunResult)
    assert isinstance(edited, RunResult)
    assert rerun.config == original.config
    assert original.config.warmup == 7
    assert original.config.heap_messages == 33
    assert rerun.messages == original.messages == 90
    assert edited.config == msgspec.structs.replace(original.config, limit=9)
    assert edited.messages == 9


def test_compare_rerun_reproduces_backends_and_options(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 40)
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-stream,pyyaml-dom", "--no-heap",
         "--warmup", "4", "-o", str(first)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["compare", "--rerun", str(first), "-o", str(again)])
    assert done.exit_code == 0, done.output
    original, rerun = load(first), load(again)
    assert isinstance(original, CompareResult)
    assert isinstance(rerun, CompareResult)
    assert rerun.config == original.config
    assert original.config is not None
    assert (original.config.warmup, original.config.heap) == (4, False)
    assert [run.backend for run in rerun.runs] == ["pyyaml-stream", "pyyaml-dom"]
    assert [run.config for run in rerun.runs] == [run.config for run in original.runs]


def test_rerun_of_the_wrong_kind_of_result_says_which_command(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 20)
    out = tmp_path / "cmp.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom", "--no-heap", "--warmup", "0", "-o",
         str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["replay", "--rerun", str(out)])
    assert done.exit_code == ExitCode.USAGE
    assert "treasure compare --rerun" in done.stderr


def test_a_backend_named_twice_runs_once(
    runner: CliRunner, make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 20)
    out = tmp_path / "cmp.json"
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom,pyyaml-stream,pyyaml-dom", "--no-heap",
         "--warmup", "0", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert [run.backend for run in saved.runs] == ["pyyaml-dom", "pyyaml-stream"]
