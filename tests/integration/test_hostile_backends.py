"""No backend can take compare down: hostile backends in real worker processes.

Each backend of tests/hostile/ breaks its process or the contract in one known way; the
comparison must record it as that backend's failure, with a reason, and go on.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.hostile.backends import CHILD_PID_ENV, MARKER_ENV

from treasure.cli import cli
from treasure.passes.timing import CONTRACT_VIOLATION
from treasure.results import CompareResult, load

pytestmark = pytest.mark.integration
H = "tests.hostile.backends"


def compare(recording: Path, out: Path, backend: str, *options: str) -> CompareResult:
    done = CliRunner().invoke(
        cli,
        ["compare", str(recording), "-b", f"{backend},pyyaml-dom", "--no-heap",
         "--warmup", "0", "-o", str(out), *options],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert [run.backend for run in saved.runs] == ["pyyaml-dom"]  # the next one still ran
    assert saved.runs[0].messages == 30
    return saved


@pytest.mark.parametrize(
    ("backend", "options", "reason"),
    [
        (f"{H}:ExitsWith3", (), "the backend called exit(3)"),
        (f"{H}:RaisingConstructor", (), "the licence server is unreachable"),
        (f"{H}:Segfault", (), f"died with signal {signal.SIGSEGV}"),
        ("tests.hostile.segfault_at_import:NeverLoaded", (), f"died with signal {signal.SIGSEGV}"),
        ("tests.hostile.hang_at_import:NeverLoaded", ("--start-timeout", "3"),
         "killed after the 3 s start timeout"),
    ],
)  # fmt: skip
def test_a_backend_that_kills_its_process_fails_alone(
    make_recording: MakeRecording, tmp_path: Path, backend: str, options: tuple[str, ...],
    reason: str,
) -> None:  # fmt: skip
    recording = make_recording([EVENT_MESSAGE] * 30)
    saved = compare(recording, tmp_path / "cmp.json", backend, *options)
    assert saved.failed[backend].startswith(f"{backend}: timing pass failed: ")
    assert reason in saved.failed[backend]


def test_a_child_keeping_stdout_open_dies_with_its_pass(
    make_recording: MakeRecording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a backend that starts a long-lived child sharing its stdout, then hangs
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv(CHILD_PID_ENV, str(pid_file))
    recording = make_recording([EVENT_MESSAGE] * 30)
    backend = f"{H}:SpawnsChildAndHangs"
    # when the pass timeout fires
    saved = compare(recording, tmp_path / "cmp.json", backend, "--pass-timeout", "3")
    # then the pass failed for that reason, and its child was killed with it
    assert "killed after the 3 s pass timeout" in saved.failed[backend]
    assert not alive(int(pid_file.read_text()))


def test_a_route_of_the_wrong_type_is_not_a_success(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 30)
    out = tmp_path / "cmp.json"
    done = CliRunner().invoke(
        cli, ["compare", str(recording), "-b", f"{H}:WrongType", "--no-heap", "--warmup", "0",
              "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    saved = load(out)
    assert isinstance(saved, CompareResult)
    assert saved.runs[0].errors == {CONTRACT_VIOLATION: 30}
    assert "dict" in saved.runs[0].error_samples[0].message


def peak_rss_of_compare(recording: Path, backend: str, out: Path) -> int:
    """Peak RSS in bytes of a whole `treasure compare` process (its workers apart)."""
    script = (
        "import resource, sys\n"
        "from treasure.cli import cli\n"
        "try:\n"
        "    cli(sys.argv[1:], prog_name='treasure')\n"
        "finally:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", script, "compare", str(recording), "-b", backend,
               "--no-heap", "--warmup", "0", "-o", str(out), "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1]) * 1024


def test_a_backend_printing_a_megabyte_per_message_corrupts_nothing(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    # given a backend writing 1 MiB (and a fake progress line) to stdout per message
    recording = make_recording([EVENT_MESSAGE] * 100)
    noisy = peak_rss_of_compare(recording, f"{H}:PrintsAMegabyte", tmp_path / "noisy.json")
    quiet = peak_rss_of_compare(recording, f"{H}:Polite", tmp_path / "quiet.json")
    # then its run is whole and the parent's memory did not take in the 100 MiB printed
    saved = load(tmp_path / "noisy.json")
    assert isinstance(saved, CompareResult)
    assert saved.failed == {}
    assert (saved.runs[0].messages, saved.runs[0].errors) == (100, {})
    assert noisy - quiet < 16 * 1024 * 1024
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_dies_with_a_killed_compare(
    make_recording: MakeRecording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a comparison whose worker hangs in its backend, writing nothing more
    marker = tmp_path / "hanging"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    recording = make_recording([EVENT_MESSAGE] * 30)
    command = [sys.executable, "-m", "treasure.cli", "compare", str(recording),
               "-b", f"{H}:Hangs", "--no-heap", "--warmup", "0", "--json"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(marker.exists), "the backend never started"
        workers = children(process.pid)
        # when compare is SIGKILLed, with no chance to clean up
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        # then its worker goes too
        assert wait_for(lambda: not any(alive(pid) for pid in workers), seconds=30)
    finally:
        process.kill()
