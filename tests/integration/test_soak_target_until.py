"""`treasure soak --target ... --until rss:SIZE`: a live router that leaks, served by
`treasure serve` on a Unix socket, is soaked until its own RSS (read from /proc/PID)
passes the limit; the run stops there and keeps what it measured. Without the target's
pid there is no RSS to read: `--until` is refused before anything starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE
from tests.groundtruth.growth import Leak64KEvery

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.recordings import RecordingWriter
from treasure.results import RunResult, load

pytestmark = pytest.mark.integration

MIB = 2**20
LEAK_64K = "tests.groundtruth.growth:Leak64KEvery"
RATE = 1000  # messages a second: ~50 requests between two samples of the target's RSS
# Samples come every 50 ms (~50 requests, 3.2 MiB of leak at this rate); a busy machine
# delays the sampler's thread by a time slice or two, and the halt reaches the writer
# one watcher tick (50 ms) later.
OVERSHOOT = 16 * MIB


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("soak-target") / "soak.trec"
    with RecordingWriter(path, metadata={"scenario": "soak-target", "users": 10}) as writer:
        for index in range(200):
            writer.write(index * 1_000_000, f"u-{index % 10}", EVENT_MESSAGE)
    return path


def test_until_stops_a_leaking_target_near_its_limit_and_keeps_the_result(
    recording: Path, tmp_path: Path
) -> None:
    # given a router leaking 64 KiB a request, served on a Unix socket the soak spawns
    socket_path = tmp_path / "router.sock"
    serve = f"{sys.executable} -m treasure.cli serve {LEAK_64K} --unix {socket_path}"
    limit = 160 * MIB
    output = tmp_path / "stopped.json"
    # when it is soaked for far more requests than the limit allows
    outcome = CliRunner().invoke(
        cli,
        ["soak", str(recording), "-b", LEAK_64K, "--target", f"unix:{socket_path}",
         "--spawn", serve, "--pace", f"rate:{RATE}/s", "--messages", "20000",
         "--until", "rss:160MiB", "-o", str(output)],
    )  # fmt: skip
    # then it stopped (exit 5) with the result saved first
    assert outcome.exit_code == ExitCode.TARGET_FAILED, outcome.output
    assert "stopped: --until rss:160.0 MiB: the target's RSS reached" in outcome.output
    run = load(output)
    assert isinstance(run, RunResult)
    soak = run.soak
    assert soak is not None
    assert run.target is not None
    process = run.target.process
    assert process is not None
    assert soak.target
    assert soak.verdict == "stopped"
    assert "the target's RSS reached" in soak.stop_reason
    assert run.stopped_early == soak.stop_reason
    # where the target's RSS passed the limit, within one sampling interval or so
    assert soak.stopped_at_rss_bytes is not None
    assert soak.stopped_at_message is not None
    assert limit <= soak.stopped_at_rss_bytes <= limit + OVERSHOOT
    assert (process.until_rss_bytes, process.stopped_at_rss_bytes) == (
        limit,
        soak.stopped_at_rss_bytes,
    )
    expected = (soak.stopped_at_rss_bytes - process.rss_start_bytes) / Leak64KEvery.leaks
    assert abs(soak.stopped_at_message - expected) <= 0.1 * expected
    # the send halted there and every request sent was answered: none lost, none late
    assert (
        soak.stopped_at_message <= run.messages < soak.stopped_at_message + OVERSHOOT // (64 << 10)
    )
    assert run.target.unsent == 20_000 - run.messages
    assert (run.errors, run.target.lost, run.target.timeouts) == ({}, 0, 0)
    assert run.target.answered == run.messages
    # and what was measured is kept: the target's RSS grew by its leak per request
    assert soak.rss is not None
    assert soak.rss.slope == pytest.approx(Leak64KEvery.leaks, rel=0.1)


@pytest.mark.parametrize(
    "extra",
    [
        ["--target", "tcp:10.255.255.1:9000"],  # a remote router: no pid to read
        ["--target", "unix:/nonexistent/router.sock"],
    ],
)
def test_until_without_the_targets_pid_is_refused_before_anything_is_sent(
    recording: Path, tmp_path: Path, extra: list[str]
) -> None:
    output = tmp_path / "never.json"
    outcome = CliRunner().invoke(
        cli,
        ["soak", str(recording), "-b", LEAK_64K, *extra, "--pace", "rate:100/s",
         "--messages", "100", "--until", "rss:1GiB", "-o", str(output)],
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.USAGE, outcome.output
    assert "--until" in outcome.output
    assert "give --spawn CMD or --target-pid PID" in outcome.output
    assert "Traceback" not in outcome.output
    assert not output.exists()


def test_until_with_a_served_backend_stops_too(recording: Path, tmp_path: Path) -> None:
    # `--transport unix` serves the backend itself: its pid is known, so --until works
    output = tmp_path / "served.json"
    outcome = CliRunner().invoke(
        cli,
        ["soak", str(recording), "-b", LEAK_64K, "--transport", "unix", "--pace",
         f"rate:{RATE}/s", "--messages", "20000", "--until", "rss:100MiB", "--json",
         "-o", str(output)],
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.TARGET_FAILED, outcome.output
    saved = json.loads(output.read_text())
    assert saved["soak"]["verdict"] == "stopped"
    assert saved["soak"]["stopped_at_rss_bytes"] >= 100 * MIB
    assert saved["messages"] < 20_000
