"""What `treasure inspect` reports of a recording: one streaming pass over its frames."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from treasure.percentiles import percentile_of_counts as percentile_of_pairs
from treasure.recordings import Integrity, open_recording


@dataclass(frozen=True, slots=True)
class RecordingStats:
    """What `treasure inspect` shows about a recording."""

    path: str
    version: int
    created_at: str
    metadata: dict[str, Any]
    compressed: bool
    file_bytes: int
    frames: int
    payload_bytes: int
    first_timestamp_ns: int | None
    last_timestamp_ns: int | None
    payload_p50: int
    payload_p90: int
    payload_p99: int
    payload_max: int
    distinct_users: int
    integrity: Integrity

    @property
    def duration_ns(self) -> int:
        if self.first_timestamp_ns is None or self.last_timestamp_ns is None:
            return 0
        return self.last_timestamp_ns - self.first_timestamp_ns

    @property
    def rate_per_s(self) -> float:
        """Frames per second of recorded time (0 when all frames share one timestamp)."""
        if self.frames < 2 or self.duration_ns <= 0:
            return 0.0
        return (self.frames - 1) * 1e9 / self.duration_ns

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "version": self.version,
            "created_at": self.created_at,
            "metadata": self.metadata,
            "compressed": self.compressed,
            "file_bytes": self.file_bytes,
            "frames": self.frames,
            "payload_bytes": self.payload_bytes,
            "duration_ns": self.duration_ns,
            "rate_per_s": self.rate_per_s,
            "payload_size": {
                "p50": self.payload_p50,
                "p90": self.payload_p90,
                "p99": self.payload_p99,
                "max": self.payload_max,
            },
            "distinct_users": self.distinct_users,
            "integrity": self.integrity.to_dict(),
        }


def percentile_of_counts(counts: Counter[int], fraction: float) -> int:
    """The `fraction` (0..1) percentile of the counted values, by treasure.percentiles."""
    return percentile_of_pairs(sorted(counts.items()), float(Fraction(str(fraction)) * 100))


def scan(path: str | os.PathLike[str]) -> RecordingStats:
    """Read a whole recording (streaming, damaged frames skipped) and summarise it."""
    sizes: Counter[int] = Counter()
    users: set[str] = set()
    payload_bytes = 0
    first: int | None = None
    last: int | None = None
    with open_recording(path, on_corrupt="skip") as reader:
        for frame in reader:
            size = len(frame.payload)
            sizes[size] += 1
            payload_bytes += size
            users.add(frame.user_id)
            if first is None:
                first = frame.timestamp_ns
            last = frame.timestamp_ns
        header, integrity = reader.header, reader.integrity
    return RecordingStats(
        path=str(path),
        version=header.version,
        created_at=header.created_at,
        metadata=header.metadata,
        compressed=header.compressed,
        file_bytes=Path(path).stat().st_size,
        frames=integrity.frames_ok,
        payload_bytes=payload_bytes,
        first_timestamp_ns=first,
        last_timestamp_ns=last,
        payload_p50=percentile_of_counts(sizes, 0.50),
        payload_p90=percentile_of_counts(sizes, 0.90),
        payload_p99=percentile_of_counts(sizes, 0.99),
        payload_max=max(sizes, default=0),
        distinct_users=len(users),
        integrity=integrity,
    )
