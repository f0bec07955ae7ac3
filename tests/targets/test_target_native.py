"""The native sender (rust/loadgen) against live targets: the same counts as the Python
sender's, and the same bound when the target falls behind (a target that dies or freezes
is test_target_live.py's, for both senders)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.targets.conftest import (
    assert_timeline_accounts_for,
    free_port,
    replay_through_native_server,
    serve_command,
)
from tests.targets.test_target_live import hostile_payloads, in_process_outcomes

from treasure.targets.native import native_sender_path, native_server_path
from treasure.targets.run import TargetRun, run_target

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        native_sender_path() is None,
        reason="the native sender is not built (make install builds it where cargo exists)",
    ),
]


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_native_sender_counts_what_the_backend_answers(
    transport: str, tmp_path: Path, make_recording: MakeRecording
) -> None:
    payloads = [EVENT_MESSAGE, *hostile_payloads()] * 20
    if transport == "unix":
        target, listen = f"unix:{tmp_path / 'r.sock'}", ["--unix", str(tmp_path / "r.sock")]
    else:
        port = free_port()
        target, listen = f"tcp:127.0.0.1:{port}", ["--tcp", f"127.0.0.1:{port}"]
    figures = run_target(
        TargetRun(
            recording=make_recording(payloads),
            target=target,
            pace="rate:500/s",
            connections=3,
            spawn=serve_command("pyyaml-dom", *listen),
            sender="native",
            artefact_dir=tmp_path,
        )
    )
    expected = in_process_outcomes("pyyaml-dom", payloads)
    assert figures.sender == "native"
    assert figures.failure == ""
    assert figures.sent == figures.answered == figures.scheduled == len(payloads)
    assert figures.routed == expected[""]
    assert figures.errors == {k: v for k, v in expected.items() if k}
    assert figures.latency_corrected is not None
    assert figures.latency_corrected.count == len(payloads)
    assert figures.schedule_error is not None
    assert figures.schedule_error.count == len(payloads)
    process = figures.process
    assert process is not None
    assert process.samples[-1][1] == len(payloads)  # the sampler saw the replies counted
    assert_timeline_accounts_for(figures)
    assert figures.timeline is not None
    assert len(figures.timeline.bins) == 1 + (len(payloads) - 1) // 500  # rate:500/s
    assert figures.timeline.late_behind_full_socket is not None
    assert figures.timeline.late_behind_full_socket <= figures.late_sends


@pytest.mark.parametrize("sender", ["native", "python"])
def test_a_sender_stops_at_a_bound_when_the_target_falls_behind(
    sender: Literal["native", "python"], tmp_path: Path, make_recording: MakeRecording
) -> None:
    # given a target that answers every message within ~1 s even behind a full socket
    # buffer (a 100 µs spin: under 10,000/s), but far slower than the 200,000/s asked
    socket_path = tmp_path / "slow.sock"
    spawn = serve_command("tests.groundtruth.timing:Spin100us", "--unix", str(socket_path))
    figures = run_target(
        TargetRun(
            recording=make_recording([EVENT_MESSAGE] * 100),
            target=f"unix:{socket_path}",
            pace="steps:200000/s:0.5s",
            reply_timeout_s=4.0,
            spawn=spawn,
            sender=sender,
            artefact_dir=tmp_path,
        )
    )
    # then sending stopped one reply timeout past the schedule's end, not when all was sent
    assert "fell behind the schedule" in figures.failure
    assert figures.scheduled == 100_000
    assert 0 < figures.sent < figures.scheduled
    assert figures.unsent == figures.scheduled - figures.sent
    # and what was sent is accounted for: answered (the target was slow, never silent),
    # or timed out when a loaded machine starved it of a core for a whole reply timeout
    assert figures.sent == figures.answered + figures.timeouts + figures.lost
    assert figures.answered > 0
    assert_timeline_accounts_for(figures)


@pytest.mark.parametrize("backend", ["rust-serde", "rust-events"])
def test_native_server_answers_as_the_rust_backend_does_in_process(
    backend: str, tmp_path: Path, make_recording: MakeRecording
) -> None:
    server = native_server_path()
    if server is None:
        pytest.skip("the native server is not built (make install builds it where cargo exists)")
    payloads = [EVENT_MESSAGE, *hostile_payloads()] * 30
    figures = replay_through_native_server(server, backend, make_recording(payloads), tmp_path)
    expected = in_process_outcomes(backend, payloads)
    assert figures.failure == ""
    assert figures.answered == len(payloads)
    assert figures.routed == expected[""]
    assert figures.errors == {k: v for k, v in expected.items() if k}
    assert figures.process is not None
    assert 0 < figures.process.rss_peak_bytes < 64 << 20  # no interpreter in this process
