"""The library API: `treasure.replay` and `treasure.compare` return the result types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording

import treasure
from treasure.errors import ConfigError
from treasure.growth.sweep import load_any
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


def test_soak_returns_a_run_with_its_growth_and_saves_it(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # a 4 KiB native leak every 7th message: 4,112 B / 7 per message (heap_truth.py)
    recording = make_recording([EVENT_MESSAGE] * 50)
    out = tmp_path / "soak.json"
    run = treasure.soak(
        recording, "tests.groundtruth.heap_truth:LeakEvery7th", messages=3000, warmup="10%",
        sample_every=64, until_rss="8 GiB", output=out,
    )  # fmt: skip
    assert isinstance(run, treasure.RunResult)
    assert run.soak is not None
    assert run.soak.heap is not None
    assert (run.messages, run.soak.verdict) == (3000, "growing")
    assert run.soak.heap.slope == pytest.approx(4112 / 7, rel=0.02)  # a short run's harness noise
    assert run.config.soak == treasure.SoakConfig(
        messages=3000, sample_every=64, until_rss_bytes=8 << 30
    )
    assert load(out) == run


def test_soak_options_are_checked_before_anything_runs(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE])
    with pytest.raises(ConfigError, match="until"):
        treasure.soak(recording, messages=100, until_rss="lots")
    with pytest.raises(ConfigError, match="one of a message count or a duration"):
        treasure.soak(recording)
    with pytest.raises(TypeError, match="not both"):
        treasure.soak(
            recording, config=treasure.ReplayConfig(backend="pyyaml-dom", recording=str(recording))
        )


def test_sweep_returns_every_point_and_saves_the_sweep_after_each(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 8, users=8)
    out = tmp_path / "sweep.json"
    saved_along: list[int] = []

    def seen(partial: treasure.SweepResult, point: object) -> None:
        loaded = load_any(out)  # the file already holds this point
        assert isinstance(loaded, treasure.SweepResult)
        saved_along.append(len(loaded.points))

    sweep = treasure.sweep(
        recording, "pyyaml-stream", users=[4, 2], warmup=0, output=out, on_result=seen
    )
    assert isinstance(sweep, treasure.SweepResult)
    assert [point.users_held for point in sweep.points] == [2, 4]
    assert [point.error for point in sweep.points] == ["", ""]
    assert [point.config.heap_messages for point in sweep.points] == [2, 4]  # whole run traced
    assert saved_along == [1, 2]
    assert sweep.complete
    assert load_any(out) == sweep
    assert [knee.verdict for knee in sweep.knees] == ["too few points", "too few points"]


def test_a_sweep_needs_users_or_rates(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE])
    with pytest.raises(ConfigError, match="user counts or rates"):
        treasure.sweep(recording)
