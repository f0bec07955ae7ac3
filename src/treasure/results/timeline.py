"""A run against a live target second by second: the part of `TargetFigures` that plots
read (report/target_plots.py); optional, so results written before it still load."""

from __future__ import annotations

import msgspec

# The columns of a timeline bin, in order. Every message is counted in the bin of its
# intended send time, so a bin says what became of the messages due in that second.
TIMELINE_COLUMNS = ("sent", "late", "routed", "errors", "timed_out", "lost")


class TargetTimeline(msgspec.Struct, kw_only=True):
    """Per-second counts of a send, and the target's CPU over the run."""

    bin_ns: int = 1_000_000_000
    # one row per bin: sent, sent late, answered routed, answered with an error, timed
    # out, lost (TIMELINE_COLUMNS)
    bins: list[tuple[int, int, int, int, int, int]] = []
    # [ms since the sampler started, the target's user + system CPU seconds since then]
    cpu_samples: list[tuple[int, float]] = []
    # native sender only (None from the Python sender): late sends that had waited behind a
    # write the target's full socket held back, and whether the sender's threads ran under
    # real-time scheduling (rust/loadgen/README.md)
    late_behind_full_socket: int | None = None
    realtime_sender: bool | None = None
