"""A comparison's interleaved rounds: every backend's rounds worker is started once, then
blocks of messages are timed round by round in rotating order, one backend at a time, and
each speed ratio is the median of its per-round ratios with a 95 % interval.

Backends timed one after another each meet another stretch of the machine's drift (two
identical comparisons gave ratios 10-15 % apart on two shared cores); timed seconds apart,
round after round, a drift lands on every backend alike. Round r times the r-th slice of
the measured messages in every backend, so each round's ratio compares the same messages.
"""

from __future__ import annotations

import contextlib
import os
import queue
import statistics
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
END = b"0\n"  # the command that ends a rounds worker


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

    def command(self, messages: int) -> str:
        """Time the next `messages` messages; "" once they are timed, else why not."""
        try:
            os.write(self.control_fd, b"%d\n" % messages)
        except OSError as exc:
            return f"the rounds worker's control pipe failed: {exc}"
        return self.next_report()


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

    def follow() -> None:
        try:
            worker.exit = run_pass_process(
                lambda fds: worker_command(PASS_NAME, config_path, *extra, *fds),
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
    summary = InterleavedRounds(rounds=len(sizes), messages_per_backend=messages, baseline=baseline)
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
    total, done = sum(sizes) * len(workers), 0
    for index, size in enumerate(sizes):
        order = rotation([w for w in workers if w.name not in summary.failed], index)
        summary.orders.append([worker.name for worker in order])
        for worker in order:
            if problem := worker.command(size):
                summary.failed[worker.name] = problem
            done += size
            if progress is not None:
                progress(PASS_NAME, done, total)


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
