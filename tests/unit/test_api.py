"""The library API: `treasure.replay` and `treasure.compare` return the result types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording

import treasure
from treasure.errors import ConfigError
from treasure.results import load


def test_replay_returns_a_run_and_saves_it(make_recording: MakeRecording, tmp_path: Path) -> None:
    recording = make_recording([EVENT_MESSAGE] * 60)
    out = tmp_path / "run.json"
    run = treasure.replay(recording, "pyyaml-stream", warmup=10, output=out)
    assert isinstance(run, treasure.RunResult)
    assert (run.backend, run.messages, run.errors) == ("pyyaml-stream", 50, {})
    assert load(out) == run


def test_compare_returns_every_backend_in_order(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 30)
    both = treasure.compare(recording, ["pyyaml-stream", "pyyaml-dom"], warmup=0)
    assert isinstance(both, treasure.CompareResult)
    assert [run.backend for run in both.runs] == ["pyyaml-stream", "pyyaml-dom"]
    assert [run.messages for run in both.runs] == [30, 30]


def test_a_bad_option_raises_before_anything_runs(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE])
    with pytest.raises(ConfigError, match="pace"):
        treasure.replay(recording, pace="sometimes")


def test_import_treasure_stays_light() -> None:
    # the worker and every command import the package: the API loads on first use only
    script = "import sys, treasure; print('treasure.runner.replay' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "False"
