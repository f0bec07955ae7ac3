"""Following a pass's worker process: its end is seen when it exits, whatever it left running."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from treasure.passes import launch
from treasure.passes.launch import PassExit, run_pass_process

# A worker that reports once, starts a grandchild holding the report pipe for an hour, and
# exits: the pipe never reaches end-of-file while the grandchild lives.
WORKER = """
import os, sys, time
fd = int(sys.argv[sys.argv.index("--report-fd") + 1])
os.write(fd, b'{"type": "progress", "done": 3, "total": 9}\\n')
if os.fork() == 0:
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(3600)
    os._exit(0)
while not os.path.getsize(sys.argv[1]):
    time.sleep(0.01)
sys.exit(7)
"""


# The same, but the grandchild writes progress reports to the pipe without end: the pipe is
# never quiet, and never reaches end-of-file.
REPORT = """os.write(fd, b'{"type": "progress", "done": 3, "total": 9}\\n')"""
CHATTY_WORKER = WORKER.replace("    time.sleep(3600)\n", f"    while True:\n        {REPORT}\n")


def follow(pid_file: Path, worker: str = WORKER) -> PassExit:
    """The pass run to its end on a thread: the test fails, not hangs, if it never ends."""
    ended: list[PassExit] = []
    heard: list[tuple[str, int, int]] = []
    pid_file.write_text("")
    thread = threading.Thread(
        target=lambda: ended.append(
            run_pass_process(
                lambda fds: [sys.executable, "-c", worker, str(pid_file), *fds],
                "timing",
                lambda *report: heard.append(report),
            )
        ),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=60)
    assert ended, "the pass was still followed a minute after its worker exited"
    assert heard
    assert set(heard) == {("timing", 3, 9)}
    if worker == WORKER:
        assert len(heard) == 1
    return ended[0]


def grandchild_is_gone(pid_file: Path) -> bool:
    """Whether the grandchild died within 10 s (a SIGKILL is delivered asynchronously)."""
    stat = Path(f"/proc/{int(pid_file.read_text())}/stat")
    for _ in range(1000):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # dead, waiting for init to reap it
            return True
        time.sleep(0.01)
    return False


def test_a_worker_that_exits_leaving_a_child_on_the_pipe_is_seen_to_end(tmp_path: Path) -> None:
    done = follow(tmp_path / "grandchild")
    assert done.code == 7
    assert done.started  # its progress was read before it exited
    assert grandchild_is_gone(tmp_path / "grandchild")  # its group was killed


def test_without_pidfds_the_exit_is_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[int] = []
    monkeypatch.setattr(launch, "_exit_fd", lambda process: opened.append(process.pid))
    monkeypatch.setattr(launch, "POLL_S", 0.05)
    done = follow(tmp_path / "grandchild")
    assert opened  # the fallback was taken
    assert done.code == 7
    assert grandchild_is_gone(tmp_path / "grandchild")


@pytest.mark.parametrize("pidfds", [True, False])
def test_a_grandchild_writing_reports_without_end_does_not_hold_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pidfds: bool
) -> None:
    if not pidfds:
        monkeypatch.setattr(launch, "_exit_fd", lambda process: None)
        monkeypatch.setattr(launch, "POLL_S", 0.05)
    monkeypatch.setattr(launch, "DRAIN_BYTES", 1 << 20)
    done = follow(tmp_path / "grandchild", CHATTY_WORKER)
    assert done.code == 7
    assert grandchild_is_gone(tmp_path / "grandchild")
