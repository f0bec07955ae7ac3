"""The heap capture's disk budget, for real: a tiny budget, a file-size limit (RLIMIT_FSIZE)
on the run, and a small file system all stop the heap pass between two messages, keep what
it traced, mark it partial and remove the capture; the timing pass and the other backends go
on, and the gate refuses the partial figure."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from tests.hostile.mounts import on_small_disk, private_mounts

import treasure
from treasure.results import CompareResult, RunResult, load
from treasure.results import HeapSummary as Heap

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parents[2] / "recordings" / "smoke.trec"  # 200 messages
BUDGET = "256 KiB"  # with --keep record: ~7 KiB of capture a message (pyyaml-dom), ~2.4 (-stream)
FILE_SIZE_LIMIT = 768 * 1024  # RLIMIT_FSIZE on the whole run: above the result file
TREASURE = [sys.executable, "-m", "treasure.cli"]
HEAP_OPTIONS = ["--heap", "--keep", "record", "--warmup", "0"]


def _stopped_heap(heap: Heap | None, stopped: str) -> Heap:
    """The checks every stopped pass must pass; the heap summary for more."""
    assert heap is not None
    assert heap.capture is not None
    assert heap.capture.stopped == stopped, heap.capture
    assert heap.partial
    # the figures measured so far are kept, counted, and said to cover only those
    assert 0 < heap.traced_messages <= heap.tracked_messages < 200
    assert heap.peak_bytes is not None
    assert f"stopped after {heap.tracked_messages:,} messages" in heap.partial_reason
    assert f"the {heap.traced_messages:,} traced" in heap.partial_reason
    # and the capture that filled the budget (or the disk) is gone, the small table kept
    assert "memray_capture" not in heap.artefacts
    csv = Path(heap.artefacts["heap_per_message_csv"])
    assert len(csv.read_text().splitlines()) == heap.traced_messages + 1
    assert not (csv.parent / "heap.memray").exists()
    return heap


def test_a_tiny_budget_stops_the_heap_pass_and_compare_goes_on(tmp_path: Path) -> None:
    # given two backends, a heap pass tracking every message, and a 1 MiB capture budget
    output = tmp_path / "cmp.json"
    result = treasure.compare(
        SMOKE, ["pyyaml-dom", "pyyaml-stream"], output=output, heap=True, keep="record",
        warmup=0, capture_budget=BUDGET,
    )  # fmt: skip
    # then each heap pass stopped at the budget: the capture stayed within it
    assert isinstance(result, CompareResult)
    assert [run.backend for run in result.runs] == ["pyyaml-dom", "pyyaml-stream"]
    for run in result.runs:
        heap = _stopped_heap(run.heap, "budget")
        assert heap.capture is not None
        assert heap.capture.budget_bytes == 256 * 1024
        assert 0 < heap.capture.capture_bytes <= 256 * 1024
        assert heap.capture.chosen == f"--capture-budget {BUDGET}"
        # and the timing pass measured every message, the budget recorded in the config
        assert run.messages == 200
        assert run.latency is not None
        assert run.config.capture_budget == BUDGET
    # and the gate refuses the partial heap figures, saying why (exit 4)
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[budgets]\nheap_peak_p99 = "1 MiB"\nerror_rate = "0%"\n')
    gate = subprocess.run(
        [*TREASURE, "gate", str(output), "--budgets", str(budgets)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert gate.returncode == 4, gate.stdout + gate.stderr
    assert gate.stdout.count("BROKEN") == 2
    assert "heap figures partial: the capture reached its disk budget" in gate.stdout


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_a_file_size_limit_stops_the_heap_pass_cleanly(tmp_path: Path) -> None:
    # given a run whose processes may write no file past 768 KiB (the kernel refuses the
    # write, EFBIG, and signals SIGXFSZ, which kills a process by default)
    output = tmp_path / "run.json"
    command = [*TREASURE, "replay", str(SMOKE), "-b", "pyyaml-dom", *HEAP_OPTIONS,
               "--capture-budget", "1 GiB", "-o", str(output)]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, preexec_fn=_limit_file_size
    )
    # then the run ends normally, its heap pass stopped by the disk's limit
    assert done.returncode == 0, done.stderr
    run = load(output)
    assert isinstance(run, RunResult)
    heap = _stopped_heap(run.heap, "disk")
    assert "RLIMIT_FSIZE" in heap.partial_reason
    assert run.messages == 200


@pytest.mark.skipif(not private_mounts(), reason="no private mounts (unshare -rm)")
def test_a_full_file_system_stops_the_heap_pass_cleanly(tmp_path: Path) -> None:
    # given artefacts on a 1.5 MiB file system of its own and a budget larger than it
    disk, output = tmp_path / "disk", tmp_path / "run.json"
    disk.mkdir()
    replay = [*TREASURE, "replay", str(SMOKE), "-b", "pyyaml-dom", *HEAP_OPTIONS,
              "--capture-budget", "1 GiB", "--artefacts", str(disk), "-o", str(output)]  # fmt: skip
    done = subprocess.run(
        on_small_disk(disk, "1536k", replay), capture_output=True, text=True, check=False
    )
    # then the heap pass stopped at the disk, not at the budget, and the run finished
    assert done.returncode == 0, done.stderr
    run = msgspec.json.decode(output.read_bytes(), type=RunResult)
    heap = _stopped_heap_outside(run.heap)
    assert "the disk holding the capture is full" in heap.partial_reason


def _stopped_heap_outside(heap: Heap | None) -> Heap:
    """As `_stopped_heap`, for a pass whose artefacts were on a file system now gone."""
    assert heap is not None
    assert heap.capture is not None
    assert heap.capture.stopped == "disk", heap.capture
    assert heap.partial
    assert 0 < heap.traced_messages <= heap.tracked_messages < 200
    assert heap.peak_bytes is not None
    assert "memray_capture" not in heap.artefacts
    return heap
