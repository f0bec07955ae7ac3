"""Starting a pass's worker process and following it to its end.

The worker speaks to its parent on a pipe of its own (`--report-fd`), never on stdout: a
backend that prints cannot corrupt the protocol, and what it prints goes to /dev/null
(stdout) or to a bounded tail (stderr), never into the parent's memory. A second pipe
(`--lifeline-fd`) is held open by the parent alone: when the parent dies the worker reads
end-of-file and kills its own process group, so no pass outlives the run that started it.

Each pass runs in a new process group; when it ends, or runs past its timeout, the whole
group is killed: a child the backend started cannot keep a pass (or compare) waiting.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from treasure.errors import TargetError
from treasure.results import ReplayConfig

# (pass name, messages done, messages in the pass)
PassProgress = Callable[[str, int, int], None]
STDERR_TAIL = 2000
MAX_REPORT_LINE = 64 << 20  # a result is ~100 KB; anything near this is not our worker
POLL_S = 0.2
DRAIN_BYTES = MAX_REPORT_LINE  # read from the pipe after the worker's exit, at most


class Progress(msgspec.Struct, tag="progress"):
    done: int
    total: int


class Failed(msgspec.Struct, tag="failed"):
    """The pass could not run: the backend failed to load or start, or raised out of it."""

    reason: str
    exit_code: int


class Finished(msgspec.Struct, tag="finished"):
    figures: msgspec.Raw  # the pass's summary: a RunResult or a HeapSummary
    backend_roots: list[str] = []  # where the backend's code lives, for the CPU pass


WorkerMessage = Progress | Failed | Finished
_decoder = msgspec.json.Decoder(WorkerMessage)


def worker_command(pass_name: str, config_path: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "treasure.passes.worker", "--pass", pass_name]
    return [*command, "--config", str(config_path), *extra]


@dataclass
class PassExit:
    """How a pass's process ended and what it reported."""

    code: int  # negative: the signal that ended it
    stderr_tail: str
    started: bool = False  # the worker reported progress: its backend was constructed
    finished: Finished | None = None
    failed: Failed | None = None
    timed_out: str = ""  # which timeout killed it, if one did
    protocol_error: str = ""

    def explain(self) -> str:
        """One line saying why the pass gave no figures."""
        if self.timed_out:
            return f"killed after {self.timed_out}"
        if self.failed is not None:
            return self.failed.reason
        if self.protocol_error:
            return self.protocol_error
        how = f"died with signal {-self.code}" if self.code < 0 else f"exited with {self.code}"
        last = self.stderr_tail.splitlines()[-1] if self.stderr_tail else "no output on stderr"
        return f"{how} before reporting figures: {last}"


class _Reader:
    """Splits the report pipe into messages, forwarding progress as it comes."""

    def __init__(self, pass_name: str, progress: PassProgress | None, result: PassExit) -> None:
        self.pass_name, self.progress, self.result = pass_name, progress, result
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        while (end := self.buffer.find(b"\n")) >= 0:
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            self._handle(line)
        if len(self.buffer) > MAX_REPORT_LINE:
            self.result.protocol_error = "the worker's report exceeded its size bound"
            self.buffer.clear()

    def _handle(self, line: bytes) -> None:
        try:
            message = _decoder.decode(line)
        except msgspec.DecodeError as exc:
            self.result.protocol_error = f"unreadable report from the worker: {exc}"
            return
        if isinstance(message, Progress):
            self.result.started = True
            if self.progress is not None:
                self.progress(self.pass_name, message.done, message.total)
        elif isinstance(message, Failed):
            self.result.failed = message
        else:
            self.result.finished = message


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signal.SIGKILL)


def _follow(process: subprocess.Popen[bytes], report_fd: int, reader: _Reader) -> None:
    """Read reports until the worker exits (a grandchild holding the pipe cannot stall us).

    The worker's exit is watched through a pidfd where the kernel has them, so this thread
    sleeps until a report or the exit arrives: a parent woken by a timer can preempt the
    timed windows of the passes beside it (the shards of a local cluster share its cores).
    Elsewhere the exit is polled every POLL_S."""
    exited = _exit_fd(process)
    with selectors.DefaultSelector() as selector:
        selector.register(report_fd, selectors.EVENT_READ)
        if exited is not None:
            selector.register(exited, selectors.EVENT_READ)
        timeout = None if exited is not None else POLL_S
        try:
            while True:
                ready = {key.fd for key, _ in selector.select(timeout)}
                if report_fd in ready:
                    chunk = os.read(report_fd, 1 << 16)
                    if not chunk:
                        break  # every writer closed: the worker and all it started are done
                    reader.feed(chunk)
                # checked even while reports come: a grandchild writing to the pipe without
                # end must not keep the parent reading after the worker itself has exited
                if (exited in ready) if exited is not None else process.poll() is not None:
                    break
        finally:
            if exited is not None:
                os.close(exited)


def _exit_fd(process: subprocess.Popen[bytes]) -> int | None:
    """A descriptor readable once `process` has exited (Linux >= 5.3), else None."""
    try:
        return os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, an older kernel, or a sandbox refusing it
        return None


def _drain(report_fd: int, reader: _Reader) -> None:
    """What the exited worker left in the pipe: at most DRAIN_BYTES, so a grandchild still
    writing to it cannot keep this reading."""
    os.set_blocking(report_fd, False)
    drained = 0
    try:
        while drained < DRAIN_BYTES and (chunk := os.read(report_fd, 1 << 16)):
            reader.feed(chunk)
            drained += len(chunk)
    except BlockingIOError:
        pass


def _tail(stderr: IO[bytes]) -> str:
    size = stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, size - STDERR_TAIL))
    return stderr.read().decode(errors="replace").strip()


def run_pass_process(
    make_command: Callable[[list[str]], list[str]],
    pass_name: str,
    progress: PassProgress | None,
    *,
    timeout_s: float | None = None,
    start_timeout_s: float | None = None,
    stdout_to_log: bool = False,
) -> PassExit:
    """Start a pass: `make_command(worker_fd_arguments)` is its command line (the worker's
    own arguments last). Kill its group at `timeout_s`, or at `start_timeout_s` when its
    backend has not started by then (a plugin hanging at import)."""
    report_read, report_write = os.pipe()
    lifeline_read, lifeline_write = os.pipe()
    fd_arguments = ["--report-fd", str(report_write), "--lifeline-fd", str(lifeline_read)]
    with tempfile.TemporaryFile() as stderr:
        result = PassExit(code=0, stderr_tail="")
        try:
            process = subprocess.Popen(
                make_command(fd_arguments),
                stdin=subprocess.DEVNULL,
                stdout=stderr if stdout_to_log else subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(report_write, lifeline_read),
                start_new_session=True,  # its own process group, killed whole
            )
        finally:
            os.close(report_write)
            os.close(lifeline_read)

        def expire(seconds: float | None, which: str, unless_started: bool) -> None:
            def fire() -> None:
                if not (unless_started and result.started):
                    result.timed_out = f"the {seconds:g} s {which} timeout"
                    kill_group(process)

            if seconds:
                timer = threading.Timer(seconds, fire)
                timer.daemon = True
                timer.start()
                timers.append(timer)

        timers: list[threading.Timer] = []
        expire(timeout_s, "pass", unless_started=False)
        expire(start_timeout_s, "start", unless_started=True)
        reader = _Reader(pass_name, progress, result)
        try:
            _follow(process, report_read, reader)
            result.code = process.wait()
            _drain(report_read, reader)
        finally:
            for timer in timers:
                timer.cancel()
            kill_group(process)  # whatever the backend started dies with its pass
            os.close(report_read)
            os.close(lifeline_write)
        result.stderr_tail = _tail(stderr)
    return result


def run_worker(
    pass_name: str,
    config_path: Path,
    config: ReplayConfig,
    progress: PassProgress | None,
    *extra: str,
) -> Finished:
    """Run one pass in a worker; its figures, or a TargetError naming the backend and why."""
    done = run_pass_process(
        lambda fds: worker_command(pass_name, config_path, *extra, *fds),
        pass_name,
        progress,
        timeout_s=config.pass_timeout_s,
        start_timeout_s=config.start_timeout_s,
    )
    if done.finished is None or done.code != 0:
        raise TargetError(f"{config.backend}: {pass_name} pass failed: {done.explain()}")
    return done.finished
