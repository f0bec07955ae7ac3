"""One backend's run: the recording and host it ran on, and every pass's figures."""

from __future__ import annotations

import msgspec

from treasure.growth.soak import SoakSummary
from treasure.results.config import ReplayConfig
from treasure.results.figures import (
    CpuSummary,
    Distribution,
    ErrorSample,
    GcSummary,
    HeapSummary,
    LatencySummary,
    RssSummary,
)
from treasure.results.target import TargetFigures
from treasure.shards import MergedShards, ShardPlan

SCHEMA_VERSION = 1


class RecordingInfo(msgspec.Struct, kw_only=True):
    """The recording a run replayed, and how much of it the run measured. Result files
    written before the names said so (`frames`, `payload_bytes`, `recorded_frames`) are
    read with their new names (`treasure.results.storage`)."""

    path: str
    messages_measured: int  # after warm-up and within --limit, errors included
    payload_bytes_measured: int  # the payload bytes of those messages
    users: int  # the recording's users (against a target: the users it was sent)
    scenario: str = ""
    # frames the recording holds (a v2 trailer's verified count); None when the run did
    # not read it to its end (--limit) or it ended damaged or incomplete
    frames_in_recording: int | None = None


class HostInfo(msgspec.Struct, kw_only=True):
    python: str
    platform: str
    cpus: int
    treasure: str


class RunResult(msgspec.Struct, kw_only=True, tag_field="kind", tag="run"):
    schema_version: int = SCHEMA_VERSION
    created_at: str
    backend: str
    backend_kind: str
    library: str
    library_version: str
    config: ReplayConfig
    recording: RecordingInfo
    host: HostInfo
    messages: int  # measured messages (after warm-up), errors included
    errors: dict[str, int] = {}  # category -> count
    error_samples: list[ErrorSample] = []
    stopped_early: str = ""  # why the run stopped before the end, if it did
    duration_ns: int = 0
    throughput_per_s: float = 0.0
    payload_size: Distribution | None = None
    latency: LatencySummary | None = None
    gc: GcSummary | None = None
    rss: RssSummary | None = None
    heap: HeapSummary | None = None
    cpu: CpuSummary | None = None
    target: TargetFigures | None = None  # a run against a live service
    artefacts: dict[str, str] = {}
    # Which messages routed (no error): their count and a SHA-256 of their frame indexes
    # (8 bytes little-endian each, in order). Backends with equal digests routed the same
    # set; a speed ratio between runs whose sets differ is not a speed-up.
    routed_count: int = 0
    routed_digest: str = ""
    shard: ShardPlan | None = None  # the part of the recording a shard run replayed
    shards: MergedShards | None = None  # a merged result: its shards' own figures
    soak: SoakSummary | None = None  # `treasure soak`: memory over time and growth per message

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())
