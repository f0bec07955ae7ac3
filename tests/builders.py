"""Builders of the results tests read: one place that knows how a `RunResult` or a
`CompareResult` is put together, so a test names only the figures it is about.

    run("lean", heap=heap_of(16 * KIB))                  # a run of recordings/smoke.trec
    comparison(run("a"), run("b"), failed={"c": "..."})  # a comparison of those runs
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from treasure.probes.latency import exact_distribution as distribution
from treasure.results import (
    CompareResult,
    Distribution,
    GcSummary,
    HeapSummary,
    HostInfo,
    LatencySummary,
    RecordingInfo,
    ReplayConfig,
    RssSummary,
    RunResult,
)

__all__ = [
    "CREATED_AT",
    "HOST",
    "KIB",
    "comparison",
    "distribution",
    "gc_of",
    "heap_of",
    "latency_of",
    "recording_of",
    "rss_of",
    "run",
    "spread_of",
]

CREATED_AT = "2026-01-01T00:00:00+00:00"
HOST = HostInfo(python="3.11.7", platform="Linux", cpus=2, treasure="0.1.0")
KIB = 1024
PAYLOAD_BYTES = 512  # each message's, unless a test says otherwise


def recording_of(
    measured: int = 2000,
    *,
    path: str = "recordings/smoke.trec",
    users: int = 10,
    scenario: str = "smoke",
    payload_bytes: int = PAYLOAD_BYTES,
    frames_in_recording: int | None = None,
    read_to_end: bool = True,
) -> RecordingInfo:
    """A recording of which `measured` messages were measured; it holds as many frames
    (or `frames_in_recording`), unless the run did not read it to its end."""
    held = frames_in_recording if frames_in_recording is not None else measured
    return RecordingInfo(
        path=path,
        messages_measured=measured,
        payload_bytes_measured=measured * payload_bytes,
        users=users,
        scenario=scenario,
        frames_in_recording=held if read_to_end else None,
    )


def run(
    backend: str = "pyyaml-dom",
    *,
    kind: str = "dom",
    library: str = "PyYAML",
    library_version: str = "6.0.2",
    recording: RecordingInfo | None = None,
    config: ReplayConfig | None = None,
    messages: int | None = None,
    **figures: Any,
) -> RunResult:
    """One backend's run; `figures` are any other RunResult fields (latency=, heap=...).
    It measured every message its recording says were measured, unless `messages` says."""
    recording = recording or recording_of()
    return RunResult(
        created_at=CREATED_AT,
        backend=backend,
        backend_kind=kind,
        library=library,
        library_version=library_version,
        config=config or ReplayConfig(backend=backend, recording=recording.path),
        recording=recording,
        host=HOST,
        messages=recording.messages_measured if messages is None else messages,
        **figures,
    )


def comparison(*runs: RunResult, baseline: str = "", **fields: Any) -> CompareResult:
    """A finished comparison of `runs` over the first one's recording, against `baseline`
    (default: the first run's backend); `fields` are any other CompareResult fields."""
    recording = fields.pop("recording", None) or runs[0].recording
    return CompareResult(
        created_at=CREATED_AT,
        recording=recording,
        baseline=baseline or runs[0].backend,
        runs=list(runs),
        complete=fields.pop("complete", True),
        **fields,
    )


def latency_of(block_medians: Sequence[int], **fields: Any) -> LatencySummary:
    """Latency whose distribution is that of its block medians (blocks of 50 messages)."""
    return LatencySummary(
        uncorrected=distribution([float(median) for median in block_medians]),
        block_size=fields.pop("block_size", 50),
        block_medians_ns=list(block_medians),
        **fields,
    )


def heap_of(peak: float, *, traced: int = 100, **fields: Any) -> HeapSummary:
    """A measured heap pass whose every traced message peaked at `peak` bytes."""
    peaks = [float(peak)] * traced
    return HeapSummary(
        measurable=True,
        traced_messages=traced,
        peak_bytes=fields.pop("peak_bytes", distribution(peaks)),
        allocated_bytes=fields.pop("allocated_bytes", distribution(peaks)),
        **fields,
    )


def gc_of(pause_total_ns: int, pause_p99_ns: int, pause_max_ns: int, **fields: Any) -> GcSummary:
    """GC figures: 3 gen-0 collections per 1,000 messages unless said otherwise."""
    by_generation = fields.pop("by_generation", [3, 0, 0])
    return GcSummary(
        collections=fields.pop("collections", sum(by_generation)),
        by_generation=by_generation,
        collections_per_1k=fields.pop("collections_per_1k", float(sum(by_generation))),
        pause_total_ns=pause_total_ns,
        pause_p99_ns=pause_p99_ns,
        pause_max_ns=pause_max_ns,
        **fields,
    )


def rss_of(growth_per_message_bytes: float | None, **fields: Any) -> RssSummary:
    """RSS from 30 to 31 MiB, peaking at 32 MiB, growing as said per message."""
    return RssSummary(
        start_bytes=fields.pop("start_bytes", 30 << 20),
        end_bytes=fields.pop("end_bytes", 31 << 20),
        peak_bytes=fields.pop("peak_bytes", 32 << 20),
        growth_per_message_bytes=growth_per_message_bytes,
        **fields,
    )


def spread_of(median: float, *, wide: float = 1.0, count: int = 3000) -> Distribution:
    """A fixed distribution around `median` (no random numbers: the same on every machine);
    `wide` stretches its tail."""
    return Distribution(
        count=count,
        mean=median * 1.1,
        min=median * 0.8,
        p50=median,
        p90=median * 1.3,
        p99=median * 2 * wide,
        p999=median * 4 * wide,
        max=median * 9 * wide,
    )
