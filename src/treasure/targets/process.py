"""The target's process: started by `--spawn` (waited for, stopped at the end, its stderr
kept) or attached by `--target-pid`; its RSS and CPU sampled from /proc while the run goes.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from treasure.errors import TargetError, TreasureError
from treasure.probes.rss import PAGE, slope
from treasure.results import TargetProcess
from treasure.targets.address import Address

TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.05
STOP_GRACE_S = 5.0


def read_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE


def read_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        text = stat.read()
    # fields after the command name, which may hold spaces and parentheses
    fields = text[text.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def read_peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return state[state.rindex(b")") + 2 : state.rindex(b")") + 3] != b"Z"


class Spawned:
    """A target started from a command line, its stderr kept as an artefact."""

    def __init__(self, command: str, stderr_path: Path) -> None:
        self.command = command
        self.stderr_path = stderr_path
        stderr_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise TreasureError(f"--spawn {command!r}: {exc}") from None
        if not argv:
            raise TreasureError("--spawn needs a command")
        self._stderr = stderr_path.open("wb")
        try:
            self.process = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True
            )
        except OSError as exc:
            self._stderr.close()
            raise TreasureError(f"--spawn {command!r}: {exc.strerror or exc}") from None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_tail(self, size: int = 600) -> str:
        self._stderr.flush()
        text = self.stderr_path.read_bytes()[-size:].decode(errors="replace").strip()
        return text.splitlines()[-1] if text else ""

    def wait_ready(self, address: Address, timeout_s: float) -> None:
        """Until the target accepts a connection; TargetError when it exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise TargetError(
                    f"the target exited with {code} before listening: {self.stderr_tail()}"
                )
            with contextlib.suppress(OSError):
                address.connect(0.5).close()
                return
            time.sleep(0.02)
        self.stop()
        raise TargetError(f"the target did not accept connections on {address} in {timeout_s:g} s")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after a grace period; the exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        return self.process.returncode


def thinning(samples: list[Any]) -> int:
    """Every how many samples one is kept: at most ~500 in a result."""
    return max(1, len(samples) // 500)


class ProcessSampler:
    """RSS and CPU of one process every SAMPLE_S, against the replies answered so far; with
    a `limit`, `reached` is set by the first sample whose RSS is at or past it."""

    def __init__(self, pid: int, answered: Callable[[], int], limit: int | None = None) -> None:
        if not alive(pid):
            raise TreasureError(f"--target-pid {pid}: no such process")
        self.pid = pid
        self.answered = answered
        self.samples: list[tuple[int, int, int]] = []
        self.cpu_samples: list[tuple[int, float]] = []  # [ms, CPU seconds since the start]
        self.died = threading.Event()
        self.limit = limit
        self.reached = threading.Event()
        self.reached_at: tuple[int, int] | None = None  # (replies answered, RSS bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()
        self.cpu_start = read_cpu_seconds(pid)
        self.cpu_end = self.cpu_start
        self.peak = 0

    def start(self) -> None:
        self._sample()  # the first sample before any request: where growth starts from
        self._thread.start()

    def _sample(self) -> None:
        elapsed_ms = int((time.monotonic() - self.started) * 1000)
        rss = read_rss(self.pid)
        self.cpu_end = read_cpu_seconds(self.pid)
        self.peak = max(self.peak, read_peak_rss(self.pid), rss)
        answered = self.answered()
        self.samples.append((elapsed_ms, answered, rss))
        if self.limit is not None and rss >= self.limit and self.reached_at is None:
            self.reached_at = (answered, rss)
            self.reached.set()
        self.cpu_samples.append((elapsed_ms, round(self.cpu_end - self.cpu_start, 3)))

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            try:
                self._sample()
            except (OSError, ValueError, IndexError):
                self.died.set()  # /proc/PID is gone, or half gone: the target ended
                return
            if not alive(self.pid):
                self.died.set()
                return

    def finish(self) -> None:
        """One last sample (the target still up), then stop sampling."""
        if self._thread.is_alive():
            with contextlib.suppress(OSError, ValueError, IndexError):
                self._sample()
            self._stop.set()
            self._thread.join()

    def figures(self, command: str = "", exit_code: int | None = None) -> TargetProcess:
        samples = self.samples
        wall = (samples[-1][0] / 1000) if samples else 0.0
        cpu = max(0.0, self.cpu_end - self.cpu_start)
        growth = slope([(answered, rss) for _, answered, rss in samples])
        step = thinning(samples)
        return TargetProcess(
            pid=self.pid,
            command=command,
            rss_start_bytes=samples[0][2] if samples else 0,
            rss_end_bytes=samples[-1][2] if samples else 0,
            rss_peak_bytes=self.peak,
            rss_growth_per_request_bytes=growth,
            cpu_seconds=cpu,
            cpu_share=cpu / wall if wall else 0.0,
            exit_code=exit_code,
            samples=samples[::step],
            until_rss_bytes=self.limit,
            stopped_at_request=self.reached_at[0] if self.reached_at else None,
            stopped_at_rss_bytes=self.reached_at[1] if self.reached_at else None,
        )
