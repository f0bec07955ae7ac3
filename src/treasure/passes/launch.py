"""Starting a pass's worker process and following it: its progress, its exit, its timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from treasure.errors import ExitCode, TargetError, TreasureError
from treasure.results import ReplayConfig

# (pass name, messages done, messages in the pass)
PassProgress = Callable[[str, int, int], None]
STDERR_TAIL = 2000


def worker_command(pass_name: str, config_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "treasure.passes.worker",
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
