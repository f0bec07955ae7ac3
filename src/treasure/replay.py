"""Replay one backend over a recording: each pass in its own fresh subprocess, merged
into one RunResult. Passes: timing (always), heap (memray), CPU (py-spy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from treasure.errors import ExitCode, TargetError, TreasureError
from treasure.parsers import resolve
from treasure.recordings import open_recording
from treasure.results import HeapSummary, ReplayConfig, RunResult

# (pass name, messages done, messages in the pass)
PassProgress = Callable[[str, int, int], None]
STDERR_TAIL = 2000


def check_inputs(config: ReplayConfig) -> None:
    """Fail fast, in this process, on what a user got wrong."""
    resolve(config.backend)
    path = Path(config.recording)
    if not path.exists():
        raise TreasureError(f"recording not found: {path}")
    with open_recording(path):
        pass  # reading the header proves it is a recording of a version we read


def worker_command(pass_name: str, config_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "treasure.worker",
        "--pass",
        pass_name,
        "--config",
        str(config_path),
        "--out",
        str(out),
        *extra,
    ]


def run_streaming(
    command: list[str],
    pass_name: str,
    progress: PassProgress | None,
    timeout_s: float | None = None,
) -> tuple[int, list[str], str]:
    """Run a pass's process, forwarding its `progress DONE TOTAL` lines; kill it when it
    runs past `timeout_s` (a backend that hangs must not hang the run).

    Returns the exit code (negative: the signal that ended it), the other lines it printed,
    and the tail of its stderr, which says so when the timeout killed it.
    """
    other: list[str] = []
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=os.environ.copy()
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            process.kill()

        timer = threading.Timer(timeout_s, kill) if timeout_s else None
        if timer is not None:
            timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "progress":
                    if progress is not None:
                        progress(pass_name, int(parts[1]), int(parts[2]))
                elif line.strip():
                    other.append(line.strip())
            code = process.wait()
        finally:
            if timer is not None:
                timer.cancel()
        stderr.seek(0)
        tail = stderr.read()[-STDERR_TAIL:].decode(errors="replace").strip()
    if fired.is_set() and code == -signal.SIGKILL:
        tail = f"{tail}\nkilled after the {timeout_s:g} s pass timeout".strip()
    return code, other, tail


def run_worker(
    command: list[str],
    out: Path,
    pass_name: str,
    config: ReplayConfig,
    progress: PassProgress | None,
) -> bytes:
    """Run one pass; stream its progress; return the figures it wrote."""
    code, _, tail = run_streaming(command, pass_name, progress, config.pass_timeout_s)
    if code != 0 or not out.exists():
        last = tail.splitlines()[-1] if tail else "no output"
        how = f"died with signal {-code}" if code < 0 else f"exited with {code}"
        if code == int(ExitCode.BAD_INPUT):
            raise TreasureError(last.removeprefix("treasure worker: "))
        raise TargetError(f"{config.backend}: {pass_name} pass {how}: {last}")
    return out.read_bytes()


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
            from treasure.probes.cpu import run_cpu_pass

            result.cpu = run_cpu_pass(config, artefacts, timing_seconds, progress=progress)
            result.artefacts.update(result.cpu.artefacts)
    return result
