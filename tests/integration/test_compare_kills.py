"""SIGKILL of `treasure compare` at seeded random moments: no worker outlives it, and its
result file is never torn (absent, a partial comparison, or a whole one). Bounded here;
`make fuzz-kills` kills more (TREASURE_FUZZ_COMPARE_KILLS)."""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.integration.test_hostile_backends import alive, children, wait_for

from treasure.results import CompareResult, load

pytestmark = pytest.mark.integration

KILLS = int(os.environ.get("TREASURE_FUZZ_COMPARE_KILLS", "2"))
LONGEST_S = 12.0  # a whole comparison here takes ~10-30 s on 2 busy cores


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def kill_at(command: list[str], delay_s: float) -> list[int]:
    """Start `command`, SIGKILL it after `delay_s`; the processes it had started then."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(delay_s)
        left = descendants(process.pid) if process.poll() is None else []
        process.send_signal(signal.SIGKILL)  # nothing, when it already finished
        process.wait(timeout=30)
        return left
    finally:
        process.kill()


def all_gone(pids: list[int]) -> bool:
    return not any(map(alive, pids))


def outcome_of(output: Path) -> str:
    """What a killed comparison left at its -o path; a torn or unreadable file fails."""
    if not output.exists():
        return "no result file"
    saved = load(output)  # raises on a torn file: never expected
    assert isinstance(saved, CompareResult)
    return "whole result" if saved.complete else "partial result, marked so"


def test_a_killed_compare_leaves_no_worker_and_no_torn_result(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a comparison of two backends with a heap pass, killed at random moments
    recording = make_recording([EVENT_MESSAGE] * 1000)
    rng = random.Random(12)
    seen: Counter[str] = Counter()
    for kill in range(KILLS):
        output = tmp_path / f"cmp-{kill}.json"
        command = [sys.executable, "-m", "treasure.cli", "compare", str(recording),
                   "-b", "pyyaml-stream,pyyaml-dom", "--heap-messages", "20",
                   "--warmup", "0", "-o", str(output)]  # fmt: skip
        workers = kill_at(command, rng.uniform(0.5, LONGEST_S))
        # then every process it started goes with it
        assert wait_for(functools.partial(all_gone, workers), seconds=30), workers
        # and its result file is absent, partial and said so, or whole: never torn
        seen[outcome_of(output)] += 1
        seen["workers killed with it"] += len(workers)
    print(f"\n{KILLS} kills of compare: {dict(seen)}")
