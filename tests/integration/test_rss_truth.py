"""RSS growth on ground truth: the harness's own growth taken out, a known leak recovered,
and a run too short to give a slope reported as not measured (and gated as an error)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording

from treasure.passes.launch import run_worker
from treasure.results import ReplayConfig, RunResult

pytestmark = pytest.mark.integration

NO_OP = "tests.groundtruth.heap_truth:NoOp"
LEAK_4K = "tests.groundtruth.heap_truth:PeriodicLeak"  # period 1: 4 KiB every message
GLIBC_CHUNK_4K = 4096 + 16  # what a 4 KiB malloc takes from the heap (size field, alignment)


def timing(recording: Path, backend: str, **options: object) -> RunResult:
    """The timing pass in its own fresh process, as replay runs it (RSS depends on what a
    process did before: a pytest process is no place to measure it)."""
    config = ReplayConfig(backend=backend, recording=str(recording), warmup=0, **options)  # type: ignore[arg-type]
    config_path = recording.with_suffix(".config.json")
    config_path.write_bytes(msgspec.json.encode(config))
    finished = run_worker("timing", config_path, config, None)
    return msgspec.json.decode(finished.figures, type=RunResult)


@pytest.mark.parametrize("keep", ["nothing", "record"])
def test_a_harness_only_run_grows_by_about_nothing(
    make_recording: MakeRecording, keep: str
) -> None:
    # given 24,000 messages from 12,000 users through a backend that allocates nothing
    recording = make_recording([EVENT_MESSAGE] * 24_000, users=12_000)
    # when the timing pass measures RSS growth
    rss = timing(recording, NO_OP, keep=keep).rss
    # then the process grew by the session model's entries alone (the raw latencies are
    # preallocated), the harness's measured growth accounts for it, the backend's is ~0
    assert rss is not None
    assert rss.process_growth_per_message_bytes is not None
    assert rss.harness_growth_per_message_bytes is not None
    assert rss.growth_per_message_bytes is not None
    if keep == "record":
        assert rss.process_growth_per_message_bytes > 4  # one entry per user kept
    # (RSS moves in pages as tables resize: the two processes land their resizes within a
    # sixth of the harness's ~90 B per message of each other)
    assert abs(rss.growth_per_message_bytes) <= 16, rss


def test_a_known_native_leak_is_the_growth(make_recording: MakeRecording) -> None:
    # given a backend that leaks a 4 KiB malloc per message, over 6,000 messages
    recording = make_recording([EVENT_MESSAGE] * 6000)
    # when the timing pass measures RSS growth
    rss = timing(recording, LEAK_4K).rss
    # then the growth is the leaked chunk per message, within 3 %
    assert rss is not None
    assert rss.growth_per_message_bytes == pytest.approx(GLIBC_CHUNK_4K, rel=0.03)


def test_a_short_run_is_not_measured_and_its_budget_is_an_error(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given 900 messages of a backend leaking 4 KiB each: one RSS sample, no slope
    recording = make_recording([EVENT_MESSAGE] * 900)
    result = timing(recording, LEAK_4K)
    # then RSS growth is not measured, with the reason, never 0.0
    assert result.rss is not None
    assert result.rss.growth_per_message_bytes is None
    assert result.rss.process_growth_per_message_bytes is None
    assert "too few RSS samples" in result.rss.growth_reason
    # and a budget on it fails the gate (exit 4), naming the reason
    saved = tmp_path / "short.json"
    saved.write_bytes(msgspec.json.encode(result))
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[budgets]\nrss_growth_per_message = "1 MiB"\n')
    command = [sys.executable, "-m", "treasure.cli", "gate", str(saved), "--budgets", str(budgets)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "too few RSS samples" in done.stdout + done.stderr
