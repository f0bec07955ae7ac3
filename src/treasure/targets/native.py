"""The native sender: rust/loadgen's `treasure-loadgen`, driven from here.

Python writes the request frames (one per distinct payload) and the schedule (i64 offsets)
to files, runs the binary, and reads back its JSON report: counts, and the three HDR
histograms as (value, count) pairs that load exactly into histograms of the same
precision. The binary prints `answered N` lines while it runs, for the target's sampler.
Where it is not built (no cargo at install time), the pure-Python sender does the work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from array import array
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from treasure.errors import TargetError
from treasure.probes.latency import HIGHEST_NS
from treasure.results import TargetFigures
from treasure.results.timeline import TargetTimeline
from treasure.targets import protocol
from treasure.targets.address import Address
from treasure.targets.summary import fill_latency

BINARY = "treasure-loadgen"
SERVER_BINARY = "treasure-serve-native"
GRACE_S = 30.0  # past the schedule and the reply timeout, before the sender is killed


def native_sender_path() -> Path | None:
    """The built sender: $TREASURE_LOADGEN, beside this Python, or on PATH."""
    override = os.environ.get("TREASURE_LOADGEN")
    if override:
        return Path(override) if Path(override).is_file() else None
    beside = Path(sys.executable).parent / BINARY
    if beside.is_file():
        return beside
    found = shutil.which(BINARY)
    return Path(found) if found else None


def native_server_path() -> Path | None:
    """The native server for the Rust routers (rust/serve), beside this Python."""
    beside = Path(sys.executable).parent / SERVER_BINARY
    return beside if beside.is_file() else None


def histogram_of_pairs(pairs: list[list[int]]) -> HdrHistogram:
    histogram = HdrHistogram(1, HIGHEST_NS, 3)
    for value, count in pairs:
        histogram.record_value(min(max(value, 1), HIGHEST_NS), count)
    return histogram


class Replies:
    """The binary's `answered N` lines, read on a thread; `count` is the latest."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.count = 0
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "answered" and parts[1].isdigit():
                self.count = int(parts[1])

    def join(self) -> None:
        self._thread.join(5)


def send_native(
    address: Address,
    payloads: list[bytes],
    offsets: array[int],
    figures: TargetFigures,
    *,
    connections: int,
    reply_timeout_s: float,
    on_replies: Any = None,
) -> TargetFigures:
    """Send the schedule with the native binary; fill `figures` from its report."""
    binary = native_sender_path()
    if binary is None:
        raise TargetError("the native sender is not built (make install builds it with cargo)")
    with tempfile.TemporaryDirectory(prefix="treasure-loadgen-") as scratch:
        work = Path(scratch)
        (work / "frames").write_bytes(b"".join(protocol.blob(p) for p in payloads))
        (work / "schedule").write_bytes(offsets.tobytes())
        command = [
            str(binary),
            "--target", str(address),
            "--frames", str(work / "frames"),
            "--schedule", str(work / "schedule"),
            "--out", str(work / "report.json"),
            "--connections", str(connections),
            "--reply-timeout-ms", str(int(reply_timeout_s * 1000)),
            "--late-threshold-ns", str(figures.late_threshold_ns),
        ]  # fmt: skip
        report = _run(command, work / "report.json", offsets, reply_timeout_s, on_replies)
    return fill_from_report(figures, report)


def _run(
    command: list[str], out: Path, offsets: array[int], reply_timeout_s: float, on_replies: Any
) -> dict[str, Any]:
    deadline = (offsets[-1] if offsets else 0) / 1e9 + reply_timeout_s + GRACE_S
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        replies = Replies(process)
        if on_replies is not None:
            on_replies(replies)
        try:
            code = process.wait(deadline)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise TargetError(
                f"the native sender ran past {deadline:.0f} s and was killed"
            ) from None
        finally:
            replies.join()
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace").strip()
    if code != 0 or not out.exists():
        raise TargetError(f"the native sender exited with {code}: {tail[-300:]}")
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def fill_from_report(figures: TargetFigures, report: dict[str, Any]) -> TargetFigures:
    categories: dict[str, int] = report["categories"]
    figures.sent = int(report["sent"])
    figures.unsent = figures.scheduled - figures.sent
    figures.routed = categories.get("", 0)
    figures.errors = {name: n for name, n in sorted(categories.items()) if name and n}
    figures.answered = figures.routed + sum(figures.errors.values())
    figures.timeouts = int(report["timeouts"])
    figures.lost = int(report["lost"])
    figures.refused_connections = int(report["refused"])
    figures.late_sends = int(report["late_sends"])
    figures.duration_ns = int(report["last_event_ns"])
    seconds = figures.duration_ns / 1e9
    figures.sent_per_s = figures.sent / seconds if seconds else 0.0
    fill_latency(
        figures,
        histogram_of_pairs(report["corrected"]),
        histogram_of_pairs(report["uncorrected"]),
        histogram_of_pairs(report["schedule_error"]),
    )
    threads = 2 * (figures.connections - figures.refused_connections)  # a writer, a reader each
    figures.timeline = TargetTimeline(
        bin_ns=int(report["bin_ns"]),
        bins=[(row[0], row[1], row[2], row[3], row[4], row[5]) for row in report["timeline"]],
        late_behind_full_socket=int(report["late_behind_full_socket"]),
        realtime_sender=int(report["realtime_threads"]) == threads,
    )
    if report["failures"] and not figures.failure:
        figures.failure = "; ".join(report["failures"][:3])
    return figures
