"""Live targets for the target tests: `treasure serve` and the Go reference router."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from treasure.results import TargetFigures
from treasure.results.timeline import TIMELINE_COLUMNS
from treasure.targets.address import Framing
from treasure.targets.native import native_sender_path
from treasure.targets.run import TargetRun, run_target

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "treasure.cli", "serve"]


# Both senders, for tests that hold them to the same account; the native one where built
SENDERS = [
    "python",
    pytest.param(
        "native",
        marks=pytest.mark.skipif(
            native_sender_path() is None,
            reason="the native sender is not built (make install builds it where cargo exists)",
        ),
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(backend: str, *listen: str) -> str:
    return " ".join([*SERVE, backend, *listen])


@pytest.fixture(scope="session")
def go_router(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/go-router built with `go build` (the test is skipped without Go)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed (scripts/install-go.sh installs it)")
    scratch = tmp_path_factory.mktemp("go")
    binary = scratch / "go-router"
    # every Go cache and path in the temporary folder: the build leaves nothing behind
    go_env = {"GOCACHE": str(scratch / "cache"), "GOPATH": str(scratch / "path"),
              "HOME": str(scratch), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
    subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=ROOT / "examples" / "go-router",
        check=True,
        capture_output=True,
        env=go_env,
    )
    return binary


class Served:
    """A `treasure serve` started by a test, with the address it printed."""

    def __init__(self, backend: str, *listen: str) -> None:
        self.process = subprocess.Popen(
            [*SERVE, backend, *listen], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise AssertionError(f"serve did not start: {line!r} {self.process.communicate()}")
        self.address = line.removeprefix("listening on ")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=10)


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for one in started:
        one.stop()


def assert_timeline_accounts_for(figures: TargetFigures) -> None:
    """The per-second timeline adds up to the run's own counts, every message in the bin
    of its intended send second."""
    timeline = figures.timeline
    assert timeline is not None
    assert timeline.bin_ns == 1_000_000_000
    totals = dict(zip(TIMELINE_COLUMNS, map(sum, zip(*timeline.bins, strict=True)), strict=True))
    assert totals == {
        "sent": figures.sent,
        "late": figures.late_sends,
        "routed": figures.routed,
        "errors": sum(n for category, n in figures.errors.items() if category != "protocol"),
        "timed_out": figures.timeouts,
        "lost": figures.lost,
    }
    assert all(sent >= late for sent, late, *_ in timeline.bins)


def replay_through_native_server(
    server: Path | str, backend: str, recording: Path, folder: Path, framing: Framing = "length"
) -> TargetFigures:
    """A recording replayed at 2,000/s on 2 connections to the native server, which the run
    starts on a Unix socket in `folder` and stops at its end."""
    socket_path = folder / f"native-{framing}.sock"
    framing_flag = "" if framing == "length" else f" --framing {framing}"
    return run_target(
        TargetRun(
            recording=recording,
            target=f"unix:{socket_path}",
            pace="rate:2000/s",
            connections=2,
            framing=framing,
            spawn=f"{server} --backend {backend}{framing_flag} --unix {socket_path}",
            artefact_dir=folder,
        )
    )
