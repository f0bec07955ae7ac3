"""The replay harness's own RSS growth, measured so the timing pass can take it out.

Under --keep record|document the timing loop keeps a session model's entry per user, which
is the harness's, not the backend's (its raw latencies are in arrays sized before the loop:
a no-op run grows by 0 B per message without a session model). On the blowup-12k recording
(24,000 messages, 12,000 users), with the latencies still appended, a backend that
allocates nothing grew RSS by 13.6 B per message, 60.9 B with --keep record.
So the same timing pass is run again, in a fresh process as every pass is, over the same
recording and options with a backend that does nothing (`HarnessOnly`, one shared record):
its growth is the harness's (13.6 and 58.9 B there, leaving 0.0 and 2.0 B). A fresh process
repeats its RSS path closely (three runs agreed within 0.1 B per message); measured inside
the pass's own process after the loop it read ~11 B lower, memory freed by the measured
loop being reused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import ClassVar

import msgspec

from treasure.errors import TargetError
from treasure.parsers import BackendKind, Limits, Routed
from treasure.passes.launch import run_worker
from treasure.results import ReplayConfig, RunResult
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

HARNESS_BACKEND = "treasure.passes.rss_harness:HarnessOnly"
_RECORD: Routed = ("", "", "")


class HarnessOnly:
    """A backend that does nothing and returns one shared record: what is left of a run's
    growth is the harness's."""

    name: ClassVar[str] = "harness-only"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> Routed:
        return _RECORD


def harness_growth(config: ReplayConfig) -> tuple[float | None, str]:
    """The harness's growth in bytes per message under `config`, or None and why not."""
    harness = msgspec.structs.replace(config, backend=HARNESS_BACKEND, heap=False, cpu=False)
    with tempfile.TemporaryDirectory(prefix="treasure-rss-") as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_bytes(msgspec.json.encode(harness))
        try:
            finished = run_worker("timing", config_path, harness, None)
        except TargetError as exc:
            return None, f"the harness-only run failed: {exc}"
        rss = msgspec.json.decode(finished.figures, type=RunResult).rss
    growth = rss.process_growth_per_message_bytes if rss else None
    if growth is None:
        return None, "the harness-only run had too few RSS samples"
    return growth, ""
