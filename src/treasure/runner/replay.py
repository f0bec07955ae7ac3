"""Replay one backend over a recording: each pass in its own fresh subprocess, merged
into one RunResult. Passes: timing (always), heap (memray), CPU (py-spy)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import msgspec

from treasure.errors import TreasureError
from treasure.parsers import resolve
from treasure.passes.launch import PassProgress, run_worker, worker_command
from treasure.recordings import open_recording
from treasure.results import HeapSummary, ReplayConfig, RunResult


def check_inputs(config: ReplayConfig) -> None:
    """Fail fast, in this process, on what a user got wrong."""
    resolve(config.backend)
    path = Path(config.recording)
    if not path.exists():
        raise TreasureError(f"recording not found: {path}")
    with open_recording(path):
        pass  # reading the header proves it is a recording of a version we read


def run_replay(
    config: ReplayConfig,
    *,
    heap: bool = False,
    heap_messages: int = 2000,
    cpu: bool = False,
    artefact_dir: Path | None = None,
    progress: PassProgress | None = None,
) -> RunResult:
    check_inputs(config)
    with tempfile.TemporaryDirectory(prefix="treasure-") as scratch:
        work = Path(scratch)
        config_path = work / "config.json"
        config_path.write_bytes(msgspec.json.encode(config))
        out = work / "timing.json"
        started = time.perf_counter()
        data = run_worker(
            worker_command("timing", config_path, out), out, "timing", config, progress
        )
        timing_seconds = time.perf_counter() - started
        result = msgspec.json.decode(data, type=RunResult)
        artefacts = artefact_dir or Path("runs") / f"{result.backend}-artefacts"
        if heap:
            heap_out = work / "heap.json"
            command = worker_command(
                "heap",
                config_path,
                heap_out,
                "--artefact-dir",
                str(artefacts),
                "--heap-messages",
                str(heap_messages),
            )
            heap_data = run_worker(command, heap_out, "heap", config, progress)
            result.heap = msgspec.json.decode(heap_data, type=HeapSummary)
            result.artefacts.update(result.heap.artefacts)
        if cpu:
            from treasure.passes.cpu import run_cpu_pass

            result.cpu = run_cpu_pass(config, artefacts, timing_seconds, progress=progress)
            result.artefacts.update(result.cpu.artefacts)
    return result
