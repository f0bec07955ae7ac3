"""Replays against live targets: `treasure serve` and the Go reference router, on Unix
sockets and TCP in a temporary directory, with the target's own RSS figures."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.targets.conftest import (
    SENDERS,
    Served,
    assert_timeline_accounts_for,
    free_port,
    serve_command,
)
from tests.targets.leaky_backend import LEAK_BYTES

from treasure.parsers import ParseError, create
from treasure.recordings import open_recording
from treasure.targets.run import TargetRun, report_line, run_target

pytestmark = pytest.mark.integration
HOSTILE = Path(__file__).resolve().parents[2] / "recordings" / "hostile-mixed.trec"


def in_process_outcomes(backend: str, payloads: list[bytes]) -> Counter[str]:
    """What the backend answers in this process: '' for routed, else the category."""
    router = create(backend)
    found: Counter[str] = Counter()
    for payload in payloads:
        try:
            router.route(payload)
            found[""] += 1
        except ParseError as exc:
            found[exc.category.value] += 1
    return found


def hostile_payloads() -> list[bytes]:
    with open_recording(HOSTILE) as reader:
        return [frame.payload for frame in reader]


def listen_args(transport: str, tmp_path: Path) -> tuple[str, list[str]]:
    if transport == "unix":
        path = tmp_path / "router.sock"
        return f"unix:{path}", ["--unix", str(path)]
    port = free_port()
    return f"tcp:127.0.0.1:{port}", ["--tcp", f"127.0.0.1:{port}"]


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_serve_answers_every_message_as_the_backend_does_in_process(
    transport: str, tmp_path: Path, make_recording: MakeRecording
) -> None:
    payloads = [EVENT_MESSAGE, *hostile_payloads()] * 20
    recording = make_recording(payloads)
    target, listen = listen_args(transport, tmp_path)
    figures = run_target(
        TargetRun(
            recording=recording,
            target=target,
            pace="rate:400/s",
            connections=2,
            spawn=serve_command("pyyaml-dom", *listen),
            sender="python",
            artefact_dir=tmp_path / "artefacts",
        )
    )
    expected = in_process_outcomes("pyyaml-dom", payloads)
    assert figures.failure == ""
    assert (figures.scheduled, figures.sent, figures.answered) == (len(payloads),) * 3
    assert figures.routed == expected[""]
    assert figures.errors == {k: v for k, v in expected.items() if k}
    assert (figures.timeouts, figures.lost, figures.unsent) == (0, 0, 0)
    assert figures.latency_corrected is not None
    assert figures.latency_corrected.count == len(payloads)
    assert figures.latency_corrected.p50 >= figures.latency_uncorrected.p50  # type: ignore[union-attr]
    process = figures.process
    assert process is not None
    assert process.command.endswith(" ".join(listen))
    assert process.rss_peak_bytes >= process.rss_end_bytes > 10 << 20  # a Python process
    assert process.exit_code == 0  # stopped by SIGTERM, cleanly
    assert Path(figures.artefacts["target_stderr"]).exists()
    assert_timeline_accounts_for(figures)
    assert figures.timeline is not None
    assert len(figures.timeline.bins) == 1 + (len(payloads) - 1) // 400  # rate:400/s
    assert figures.timeline.realtime_sender is None  # the native sender's figure
    cpu = figures.timeline.cpu_samples
    assert len(cpu) == len(process.samples)
    assert [ms for ms, _ in cpu] == [ms for ms, _, _ in process.samples]
    assert 0 <= cpu[0][1] <= cpu[-1][1] <= process.cpu_seconds + 0.02  # seconds since start


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_go_router_routes_the_default_fields(
    transport: str, go_router: Path, tmp_path: Path, make_recording: MakeRecording
) -> None:
    missing = EVENT_MESSAGE.replace(b"session_id:", b"other_id:")
    payloads = [EVENT_MESSAGE] * 150 + [missing] * 50 + [b"\xff\xfe not utf-8"] * 10
    target, listen = listen_args(transport, tmp_path)
    go_listen = ["-" + listen[0].removeprefix("--"), listen[1]]
    figures = run_target(
        TargetRun(
            recording=make_recording(payloads),
            target=target,
            pace="rate:1000/s",
            connections=3,
            spawn=" ".join([str(go_router), *go_listen]),
            sender="python",
            artefact_dir=tmp_path,
        )
    )
    assert figures.failure == ""
    assert figures.answered == figures.sent == 210
    assert figures.routed == 150
    assert figures.errors == {"schema": 50, "encoding": 10}
    process = figures.process
    assert process is not None
    assert 0 < process.rss_start_bytes <= process.rss_peak_bytes < 200 << 20


def test_target_rss_growth_per_request_reads_a_known_leak(
    tmp_path: Path, make_recording: MakeRecording
) -> None:
    socket_path = tmp_path / "leaky.sock"
    figures = run_target(
        TargetRun(
            recording=make_recording([EVENT_MESSAGE] * 1500),
            target=f"unix:{socket_path}",
            pace="rate:1000/s",
            spawn=serve_command(
                "tests.targets.leaky_backend:LeakyBackend", "--unix", str(socket_path)
            ),
            sender="python",
            artefact_dir=tmp_path,
        )
    )
    assert figures.routed == 1500
    process = figures.process
    assert process is not None
    # 64 KiB kept per message, plus the bytes object's header and malloc's chunk overhead
    assert process.rss_growth_per_request_bytes == pytest.approx(LEAK_BYTES, rel=0.05)
    assert process.rss_end_bytes - process.rss_start_bytes >= 1400 * LEAK_BYTES


@pytest.mark.parametrize("sender", SENDERS)
def test_a_target_killed_mid_run_ends_it_with_a_clear_account(
    sender: Literal["python", "native"],
    tmp_path: Path,
    make_recording: MakeRecording,
    served: list[Served],
) -> None:
    socket_path = tmp_path / "doomed.sock"
    target = Served("pyyaml-dom", "--unix", str(socket_path))
    served.append(target)
    pid = target.process.pid
    # 10 s of schedule; the target dies after about one
    killer = threading.Timer(1.0, lambda: os.kill(pid, signal.SIGKILL))
    killer.start()
    try:
        figures = run_target(
            TargetRun(
                recording=make_recording([EVENT_MESSAGE] * 2000),
                target=f"unix:{socket_path}",
                pace="rate:200/s",
                target_pid=pid,
                sender=sender,
                artefact_dir=tmp_path,
            )
        )
    finally:
        killer.cancel()
    assert f"the target (pid {pid}) exited during the run" in figures.failure
    assert 0 < figures.answered <= figures.sent < figures.scheduled == 2000
    assert figures.unsent == figures.scheduled - figures.sent
    assert figures.sent == figures.answered + figures.timeouts + figures.lost
    line = report_line(figures)
    assert f"sent {figures.sent} of 2000" in line
    assert f"answered {figures.answered}" in line
    assert figures.process is not None
    assert figures.process.samples
    assert_timeline_accounts_for(figures)


@pytest.mark.parametrize("sender", SENDERS)
def test_a_target_that_stops_answering_times_out(
    sender: Literal["python", "native"],
    tmp_path: Path,
    make_recording: MakeRecording,
    served: list[Served],
) -> None:
    socket_path = tmp_path / "frozen.sock"
    target = Served("pyyaml-dom", "--unix", str(socket_path))
    served.append(target)
    pid = target.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        figures = run_target(
            TargetRun(
                recording=make_recording([EVENT_MESSAGE] * 300),
                target=f"unix:{socket_path}",
                pace="rate:1000/s",
                reply_timeout_s=0.5,
                sender=sender,
                artefact_dir=tmp_path,
            )
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "reply timeout" in figures.failure
    assert figures.answered == 0
    assert figures.timeouts == figures.sent > 0
    assert_timeline_accounts_for(figures)


@pytest.mark.parametrize("framing", ["lines", "http"])
def test_json_framings_answer_as_length_frames_do(
    framing: str, tmp_path: Path, make_recording: MakeRecording, served: list[Served]
) -> None:
    payloads = [EVENT_MESSAGE, *hostile_payloads()] * 5
    if framing == "http":
        served.append(Served("pyyaml-dom", "--http", "127.0.0.1:0"))
    else:
        socket_path = tmp_path / "lines.sock"
        served.append(Served("pyyaml-dom", "--unix", str(socket_path), "--framing", "lines"))
    figures = run_target(
        TargetRun(
            recording=make_recording(payloads),
            target=served[0].address,
            pace="rate:500/s",
            connections=2,
            framing="lines",
            sender="python",
            artefact_dir=tmp_path,
        )
    )
    expected = in_process_outcomes("pyyaml-dom", payloads)
    assert figures.failure == ""
    assert figures.routed == expected[""]
    assert figures.errors == {k: v for k, v in expected.items() if k}


@pytest.mark.parametrize("sender", ["python", "native"])
def test_refused_connections_are_counted_and_nothing_is_sent(
    sender: str, tmp_path: Path, make_recording: MakeRecording
) -> None:
    from treasure.targets.native import native_sender_path

    if sender == "native" and native_sender_path() is None:
        pytest.skip("the native sender is not built")
    figures = run_target(
        TargetRun(
            recording=make_recording([EVENT_MESSAGE] * 10),
            target=f"unix:{tmp_path / 'nobody.sock'}",
            pace="rate:1000/s",
            connections=3,
            sender=sender,  # type: ignore[arg-type]
            artefact_dir=tmp_path,
        )
    )
    assert figures.refused_connections == 3
    assert (figures.sent, figures.unsent) == (0, 10)
    assert "cannot connect" in figures.failure
