"""The shards of a merged result, one row each: their process figures side by side."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from treasure.shards import MergedShards


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


def _ms(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e6:.1f} ms"


def render_shards(shards: MergedShards, out: Console) -> None:
    table = Table(
        title=f"{shards.count} shards ({shards.hash} of {shards.key}), start skew "
        f"{_ms(shards.start_skew_ns)}, merged in {shards.merge_seconds * 1000:.1f} ms",
    )
    served = any(run.target_rss_peak_bytes is not None for run in shards.runs)
    names = ["shard", "messages", "errors", "users", "msg/s", "late", "RSS peak", "RSS/msg",
             "GC"]  # fmt: skip
    if served:  # each shard's own target process, side by side
        names += ["target RSS peak", "target RSS/req"]
    for name in names:
        table.add_column(name, justify="right")
    for run in shards.runs:
        target = (
            [_bytes(run.target_rss_peak_bytes), _bytes(run.target_rss_growth_per_request_bytes)]
            if served
            else []
        )
        table.add_row(
            f"{run.index}/{shards.count}",
            f"{run.messages:,}",
            f"{run.errors:,}",
            f"{run.users:,}",
            f"{run.throughput_per_s:,.0f}",
            _ms(run.lateness_ns),
            _bytes(run.rss_peak_bytes),
            _bytes(run.rss_growth_per_message_bytes),
            "-" if run.gc_collections is None else f"{run.gc_collections:,}",
            *target,
        )
    out.print(table)
