"""The timing pass, proven on ground-truth backends before any real figure is trusted."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.groundtruth.timing import Spin200us, Spin400us

from treasure.passes.timing import CORRUPT_FRAME, run_timing_pass
from treasure.results import ReplayConfig

GT = "tests.groundtruth.timing"


def config(recording: Path, backend: str, **overrides: object) -> ReplayConfig:
    return ReplayConfig(backend=backend, recording=str(recording), warmup=20, **overrides)  # type: ignore[arg-type]


def test_latency_median_matches_known_spend(make_recording: MakeRecording) -> None:
    # given backends that spend exactly 200 µs and 400 µs per message
    recording = make_recording([EVENT_MESSAGE] * 400)
    # when each is replayed
    fast = run_timing_pass(config(recording, f"{GT}:Spin200us"))
    slow = run_timing_pass(config(recording, f"{GT}:Spin400us"))
    assert fast.latency is not None
    assert slow.latency is not None
    # then the medians sit just above the known spend, and their ratio is the known 2
    for measured, spend in ((fast, Spin200us.spend_ns), (slow, Spin400us.spend_ns)):
        assert measured.latency is not None
        ratio = measured.latency.uncorrected.p50 / spend
        assert ratio >= 1.0  # the spin ends on the probe's own clock: never less than known
        assert ratio < 1.03
    assert slow.latency.uncorrected.p50 / fast.latency.uncorrected.p50 == pytest.approx(2, rel=0.03)
    assert fast.messages == 380


def test_errors_are_counted_by_category_and_the_run_goes_on(
    make_recording: MakeRecording,
) -> None:
    payloads = [EVENT_MESSAGE + (b"#reject" if i % 3 == 0 else b"") for i in range(90)]
    recording = make_recording(payloads)
    result = run_timing_pass(
        ReplayConfig(backend=f"{GT}:RejectEveryThird", recording=str(recording), warmup=0)
    )
    assert result.messages == 90
    assert result.errors == {"syntax": 30}
    assert [s.frame_index for s in result.error_samples[:3]] == [0, 3, 6]


def test_fail_fast_stops_at_the_first_error(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE, EVENT_MESSAGE, b"event_type: [", EVENT_MESSAGE])
    result = run_timing_pass(
        ReplayConfig(backend="pyyaml-dom", recording=str(recording), warmup=0, fail_fast=True)
    )
    assert result.messages == 3
    assert result.errors == {"syntax": 1}
    assert result.stopped_early.startswith("--fail-fast: frame 2")


def test_a_corrupt_frame_is_counted_and_skipped(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 20)
    data = bytearray(recording.read_bytes())
    where = data.rfind(b"north-ridge")  # inside the last frame's payload
    data[where] ^= 0x01
    recording.write_bytes(bytes(data))
    result = run_timing_pass(ReplayConfig(backend="pyyaml-dom", recording=str(recording), warmup=0))
    assert result.messages == 19
    assert result.errors == {CORRUPT_FRAME: 1}
    assert result.error_samples[0].frame_index == 19


def test_a_torn_tail_is_reported(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 10)
    recording.write_bytes(recording.read_bytes()[:-40])
    result = run_timing_pass(ReplayConfig(backend="pyyaml-dom", recording=str(recording), warmup=0))
    assert result.messages == 9
    assert "torn frame" in result.stopped_early


def test_limit_and_warmup_bound_the_measured_messages(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 100)
    result = run_timing_pass(config(recording, "pyyaml-dom", limit=50))
    assert result.messages == 50
    assert result.latency is not None
    assert result.latency.uncorrected.count == 50
    assert result.payload_size is not None
    assert result.payload_size.p50 == len(EVENT_MESSAGE)


def test_corrected_latency_counts_the_backlog_of_a_slow_backend(
    make_recording: MakeRecording,
) -> None:
    # given a backend needing 400 µs per message, offered one message every 200 µs
    recording = make_recording([EVENT_MESSAGE] * 300)
    result = run_timing_pass(config(recording, f"{GT}:Spin400us", pace="rate:5000/s"))
    assert result.latency is not None
    assert result.latency.corrected is not None
    # then uncorrected latency stays at the spend while the backlog grows ~200 µs a message
    assert result.latency.uncorrected.p50 == pytest.approx(400_000, rel=0.05)
    assert result.latency.corrected.max > 100 * result.latency.uncorrected.p50


def test_gc_probe_counts_every_collection(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 120)
    result = run_timing_pass(config(recording, f"{GT}:CollectEveryMessage"))
    assert result.gc is not None
    assert result.gc.by_generation[2] == 100
    assert result.gc.collections_per_1k == pytest.approx(1000.0)
    assert result.gc.pause_total_ns >= result.gc.pause_max_ns > 0


def test_rss_growth_per_message_matches_a_known_leak(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 6000)
    result = run_timing_pass(config(recording, f"{GT}:Leak100KiB"))
    assert result.rss is not None
    assert result.rss.growth_per_message_bytes == pytest.approx(102_400, rel=0.05)
    assert result.rss.peak_bytes >= result.rss.end_bytes
