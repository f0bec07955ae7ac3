"""One measurement pass in a fresh process: `python -m treasure.passes.worker --pass timing ...`.

A pass runs alone in its process so that a tracer's overhead never leaks into a latency
figure and one backend's heap never leaks into another's. It reports on its own pipe
(`--report-fd`, see `launch`): progress (the first report also says the backend started),
then its figures or a structured failure. The backend's stdout and stderr are not ours.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

from treasure.errors import ExitCode, TreasureError
from treasure.passes.launch import Failed, Finished, Progress, WorkerMessage
from treasure.recordings import Frame, count_frames
from treasure.results import ReplayConfig

PR_SET_PDEATHSIG = 1


class Reporter:
    """Writes protocol messages to the report pipe, whole lines at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.encoder = msgspec.json.Encoder()

    def send(self, message: WorkerMessage) -> None:
        data = memoryview(self.encoder.encode(message) + b"\n")
        while data:
            data = data[os.write(self.fd, data) :]

    def progress(self, total: int) -> Callable[[int], None]:
        def report(done: int) -> None:
            self.send(Progress(done=done, total=total))

        return report


def die_with_parent(lifeline_fd: int) -> None:
    """Kill this pass's whole process group when the parent goes: the kernel's parent-death
    signal for the direct parent, and end-of-file on the lifeline, which only the run that
    started us holds open (it also works under py-spy, whose death signal we cannot set)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        while os.read(lifeline_fd, 1):
            pass  # the parent never writes: only end-of-file comes
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def _total(config: ReplayConfig, frames: int) -> int:
    if config.shard:  # the shard's own frames past the warm-up, within the run's window
        from treasure.passes.timing import shard_of_run
        from treasure.recordings import open_recording
        from treasure.shards import plan_of, window_end

        shard, end = shard_of_run(config), window_end(config.warmup, config.limit)
        assert shard is not None
        with open_recording(Path(config.recording), on_corrupt="skip") as reader:
            return plan_of(reader, shard, config.warmup, end, config.pace).measured_frames
    measured = max(0, frames - config.warmup)
    return min(measured, config.limit) if config.limit is not None else measured


def run_pass(args: argparse.Namespace, reporter: Reporter) -> Finished:
    config = msgspec.json.decode(args.config.read_bytes(), type=ReplayConfig)
    frames = count_frames(Path(config.recording))
    total = _total(config, frames)
    if args.pass_name == "timing":
        from treasure.passes.timing import run_timing_pass

        result = run_timing_pass(
            config, progress=reporter.progress(total), intact_frames=frames,
            start_at_ns=args.start_at_ns, python_loop=args.backend_roots,  # under py-spy
        )  # fmt: skip
        roots: list[str] = []
        if args.backend_roots:  # after the loop: the CPU pass leaves these samples out
            from treasure.probes.cpu import backend_roots

            roots = list(backend_roots(config.backend))
        return Finished(figures=msgspec.Raw(msgspec.json.encode(result)), backend_roots=roots)
    if args.pass_name == "soak":
        from treasure.passes.soak import run_soak_pass

        messages = config.soak.messages if config.soak is not None else None
        soaked = run_soak_pass(config, progress=reporter.progress(messages or 0))
        return Finished(figures=msgspec.Raw(msgspec.json.encode(soaked)))
    if args.pass_name == "rounds":  # a comparison's interleaved rounds, one block per command
        from treasure.passes.rounds import run_rounds_pass

        rounds = run_rounds_pass(config, args.control, reporter.progress(total))
        return Finished(figures=msgspec.Raw(msgspec.json.encode(rounds)))
    from treasure.passes.heap import run_heap_pass
    from treasure.recordings import open_recording

    args.artefact_dir.mkdir(parents=True, exist_ok=True)
    if config.keep == "nothing":
        # No per-user state to build up: every message outside the traced sample
        # would cost the tracer's full price for no figure, so trace a prefix.
        total = min(total, config.heap_messages)
    with open_recording(Path(config.recording), on_corrupt="skip") as reader:
        summary = run_heap_pass(
            config,
            _shard_frames(config, reader),
            messages=config.heap_messages,
            artefact_dir=args.artefact_dir,
            total_frames=total,
            progress=reporter.progress(total),
        )
    return Finished(figures=msgspec.Raw(msgspec.json.encode(summary)))


def _shard_frames(config: ReplayConfig, frames: Iterable[Frame]) -> Iterable[Frame]:
    from treasure.passes.timing import shard_of_run
    from treasure.shards import select, window_end

    shard = shard_of_run(config)
    return frames if shard is None else select(frames, shard, window_end(config.warmup, None))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m treasure.passes.worker")
    passes = ["timing", "heap", "soak", "rounds"]
    parser.add_argument("--pass", dest="pass_name", choices=passes, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--artefact-dir", type=Path, default=Path("."))
    parser.add_argument("--backend-roots", action="store_true", help="for the CPU pass")
    parser.add_argument("--start-at-ns", type=int, help="a start shared by shards (epoch ns)")
    parser.add_argument("--control", type=Path, help="the rounds pass's command FIFO")
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    return parser.parse_args(argv)


def main() -> None:
    args = parse(sys.argv[1:])
    die_with_parent(args.lifeline_fd)
    reporter = Reporter(args.report_fd)
    try:
        reporter.send(run_pass(args, reporter))
    except TreasureError as exc:
        reporter.send(Failed(reason=str(exc), exit_code=int(exc.exit_code)))
        sys.exit(int(exc.exit_code))
    except SystemExit as exc:  # the backend, or a library under it, called exit
        reporter.send(Failed(reason=f"the backend called exit({exc.code!r})", exit_code=1))
        raise
    except Exception as exc:  # a bug of the backend's or ours: reported, with its trace
        traceback.print_exc()
        reason = f"{type(exc).__name__}: {exc}"
        reporter.send(Failed(reason=reason, exit_code=int(ExitCode.FAILURE)))
        sys.exit(int(ExitCode.FAILURE))


if __name__ == "__main__":
    main()
