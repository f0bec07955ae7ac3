"""A comparison's interleaved rounds: every backend's rounds worker is started once, then
blocks of messages are timed round by round in rotating order, one backend at a time, and
each speed ratio is the median of its per-round ratios with a 95 % interval.

Backends timed one after another each meet another stretch of the machine's drift (two
identical comparisons gave ratios 10-15 % apart on two shared cores); timed seconds apart,
round after round, a drift lands on every backend alike. Round r times the r-th slice of
the measured messages in every backend, so each round's ratio compares the same messages.

The workers run with address-space randomisation off (`setarch -R`) where the machine
allows it: a process's memory layout sets its speed for its whole life (rust-serde in four
workers timed in the same rounds read 21.2, 21.4, 21.4 and 22.0 µs, each steady from round
to round; with randomisation off, 22.4-23.0 µs in every worker and run), so with it on, two
comparisons differ by the luck of their layouts, which no number of rounds averages out.
`InterleavedRounds.address_layout` says which way the workers ran.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import queue
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from treasure.interleaved import BackendRounds, InterleavedRounds, RoundRatio
from treasure.passes.launch import PassExit, PassProgress, run_pass_process, worker_command
from treasure.probes.rounds import FEWEST_ROUNDS, median_interval, ratios, rotation
from treasure.recordings import count_frames
from treasure.results import ReplayConfig

PASS_NAME = "rounds"
END = b"0 0\n"  # the command that ends a rounds worker
FIXED_LAYOUT = "fixed: workers ran with address-space randomisation off (setarch -R)"


@dataclass
class _Worker:
    """One backend's rounds worker, followed on a thread of its own: its progress reports
    arrive on `reports` (None once it has exited)."""

    name: str
    control_fd: int
    reports: queue.Queue[int | None] = field(default_factory=queue.Queue)
    exit: PassExit | None = None
    thread: threading.Thread | None = None

    def next_report(self) -> str:
        """Wait for the worker's next report; "" when it came, else why it never will."""
        if self.reports.get() is not None:
            return ""
        self.reports.put(None)  # it stays gone for whoever asks next
        return self.exit.explain() if self.exit is not None else "the worker never started"

    def command(self, first: int, messages: int) -> str:
        """Time `messages` measured messages from the `first`; "" once done, else why not."""
        try:
            os.write(self.control_fd, b"%d %d\n" % (first, messages))
        except OSError as exc:
            return f"the rounds worker's control pipe failed: {exc}"
        return self.next_report()


@functools.cache
def fixed_layout() -> tuple[list[str], str]:
    """The command prefix that starts a worker with randomisation off, and the layout it
    gives; no prefix, and why not, where the machine refuses it."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return [], "randomized: setarch (util-linux) not found to switch randomisation off"
    prefix = [setarch, platform.machine(), "-R"]
    tried = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if tried.returncode != 0:
        last = (tried.stderr.strip().splitlines() or [f"exit {tried.returncode}"])[-1]
        return [], f"randomized: setarch -R failed here ({last})"
    return prefix, FIXED_LAYOUT


def _start(name: str, config: ReplayConfig, folder: Path, timeout_s: float | None) -> _Worker:
    folder.mkdir()
    config_path = folder / "config.json"
    config_path.write_bytes(msgspec.json.encode(config))
    control = folder / "control"
    os.mkfifo(control)
    # read-write: opening never waits for the worker, and a worker that never opens it
    # cannot leave a write blocked (the FIFO's buffer holds every command sent)
    worker = _Worker(name, os.open(control, os.O_RDWR))
    extra = ["--control", str(control)]
    prefix = fixed_layout()[0]

    def follow() -> None:
        try:
            worker.exit = run_pass_process(
                lambda fds: [*prefix, *worker_command(PASS_NAME, config_path, *extra, *fds)],
                PASS_NAME,
                lambda _pass, done, _total: worker.reports.put(done),
                timeout_s=timeout_s,
                start_timeout_s=config.start_timeout_s,
            )
        finally:
            worker.reports.put(None)

    worker.thread = threading.Thread(target=follow, name=f"rounds {name}", daemon=True)
    worker.thread.start()
    return worker


def _finish(worker: _Worker) -> BackendRounds | str:
    """End the worker; its figures, or why there are none."""
    with contextlib.suppress(OSError):  # it has already gone: its exit says why
        os.write(worker.control_fd, END)
    if worker.thread is not None:
        worker.thread.join()
    os.close(worker.control_fd)
    done = worker.exit
    if done is None or done.finished is None or done.code != 0:
        return done.explain() if done is not None else "the worker never started"
    return msgspec.json.decode(done.finished.figures, type=BackendRounds)


def block_sizes(messages: int, rounds: int) -> list[int]:
    """The measured messages cut into `rounds` consecutive slices differing by one at most."""
    return [(r + 1) * messages // rounds - r * messages // rounds for r in range(rounds)]


def measured_messages(config: ReplayConfig) -> int:
    frames = max(0, count_frames(Path(config.recording)) - config.warmup)
    return min(frames, config.limit) if config.limit is not None else frames


def run_rounds(
    configs: Sequence[tuple[str, ReplayConfig]],
    baseline: str,
    progress: PassProgress | None = None,
) -> InterleavedRounds:
    """`configs`: (the backend's name as its runs report it, its config), the names unique."""
    template = configs[0][1]
    messages = measured_messages(template)
    sizes = block_sizes(messages, min(template.rounds, messages))
    summary = InterleavedRounds(
        rounds=len(sizes),
        messages_per_backend=messages,
        baseline=baseline,
        address_layout=fixed_layout()[1],
    )
    # the whole life of a worker spans every backend's blocks
    timeout = template.pass_timeout_s * len(configs) if template.pass_timeout_s else None
    with tempfile.TemporaryDirectory(prefix="treasure-rounds-") as scratch:
        workers = [
            _start(name, config, Path(scratch) / str(index), timeout)
            for index, (name, config) in enumerate(configs)
        ]
        for worker in workers:  # ready: built and warmed up, all of them before round 0
            if problem := worker.next_report():
                summary.failed[worker.name] = problem
        _interleave(workers, sizes, summary, progress)
        for worker in workers:
            figures = _finish(worker)
            if isinstance(figures, str):
                summary.failed.setdefault(worker.name, figures)
            elif worker.name not in summary.failed:
                figures.backend = worker.name
                summary.backends.append(figures)
    summary.ratios = speed_ratios(summary.backends, baseline)
    return summary


def _interleave(
    workers: list[_Worker],
    sizes: list[int],
    summary: InterleavedRounds,
    progress: PassProgress | None,
) -> None:
    total, done, first = sum(sizes) * len(workers), 0, 0
    for index, size in enumerate(sizes):
        order = rotation([w for w in workers if w.name not in summary.failed], index)
        summary.orders.append([worker.name for worker in order])
        for worker in order:
            if problem := worker.command(first, size):
                summary.failed[worker.name] = problem
            done += size
            if progress is not None:
                progress(PASS_NAME, done, total)
        first += size


def speed_ratios(backends: list[BackendRounds], baseline: str) -> list[RoundRatio]:
    """Each backend's ratio against the baseline's blocks; none without the baseline."""
    base = next((b for b in backends if b.backend == baseline), None)
    if base is None:
        return []
    return [_ratio(base, other) for other in backends if other is not base]


def _ratio(base: BackendRounds, other: BackendRounds) -> RoundRatio:
    rounds = min(len(base.medians_ns), len(other.medians_ns))
    per_round = ratios(base.medians_ns[:rounds], other.medians_ns[:rounds])
    ratio = RoundRatio(backend=other.backend, per_round=per_round)
    interval = median_interval(per_round)
    if interval is not None:
        ratio.median, ratio.low, ratio.high, ratio.coverage = interval
    elif per_round:
        ratio.median = statistics.median(per_round)
        ratio.note = f"{len(per_round)} rounds: a 95 % interval needs {FEWEST_ROUNDS} at least"
    else:
        ratio.note = "no round timed both backends"
    return ratio
