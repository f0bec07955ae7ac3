"""A run that would measure nothing is an error, and long work is never silent."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording

from treasure.cli import cli
from treasure.errors import ExitCode


def test_a_warmup_that_swallows_the_recording_exits_3_saying_what_to_pass(
    make_recording: MakeRecording,
) -> None:
    # given an 11-message recording and the default 50-message warm-up
    recording = make_recording([EVENT_MESSAGE] * 11)
    for command in (["replay"], ["compare", "-b", "pyyaml-dom", "--no-heap"]):
        done = CliRunner().invoke(cli, [*command, str(recording)])
        # then nothing runs: one line says why and what to pass
        assert done.exit_code == ExitCode.BAD_INPUT, done.output
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1
        assert "take all 11 messages" in lines[0]
        assert "--warmup 1" in lines[0]


def test_an_empty_recording_exits_3(make_recording: MakeRecording) -> None:
    recording = make_recording([])
    done = CliRunner().invoke(cli, ["replay", str(recording), "--warmup", "0"])
    assert done.exit_code == ExitCode.BAD_INPUT
    assert "holds no readable message" in done.stderr


def test_piped_output_gets_one_line_per_finished_pass(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 40)
    done = CliRunner().invoke(
        cli,
        ["compare", str(recording), "-b", "pyyaml-dom,pyyaml-stream", "--heap-messages", "5",
         "--warmup", "0", "-o", str(tmp_path / "cmp.json")],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    passes = [line.split(" pass:")[0] for line in done.stderr.splitlines() if " pass: " in line]
    assert passes == ["pyyaml-dom timing", "pyyaml-dom heap", "pyyaml-stream timing",
                      "pyyaml-stream heap", "interleaved rounds"]  # fmt: skip
    assert "pyyaml-dom timing pass: 40/40 messages" in done.stderr
