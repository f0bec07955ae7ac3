"""One run's figures, one per row (figure, value): what `treasure replay` prints."""

from __future__ import annotations

from collections.abc import Callable

from treasure.report.spread import time_per_message
from treasure.report.tables import Column, ReportTable, errors_cell, session_settings
from treasure.report.units import (
    format_bytes,
    format_ns,
    format_ns_range,
    format_ratio,
    format_share,
)
from treasure.results import Distribution, HeapSummary, RunResult

Rows = list[tuple[str, str]]


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _three(dist: Distribution, attrs: tuple[str, ...], fmt: Callable[[float], str]) -> str:
    return " / ".join(fmt(getattr(dist, attr)) for attr in attrs)


def details_table(run: RunResult) -> ReportTable:
    rows: Rows = [("messages", f"{run.messages:,}")]
    rows.append(("throughput", f"{run.throughput_per_s:,.0f} msg/s"))
    if run.payload_size:
        rows.append(("payload p50 / max", _three(run.payload_size, ("p50", "max"), format_bytes)))
    rows += _latency_rows(run)
    if run.gc:
        gc = run.gc
        per_1k = f"{gc.collections:,} ({gc.collections_per_1k:.2f})"
        rows.append(("GC collections (per 1k msg)", per_1k))
        pauses = (gc.pause_total_ns, gc.pause_p99_ns, gc.pause_max_ns)
        rows.append(("GC pause total / p99 / max", " / ".join(format_ns(v) for v in pauses)))
    if run.rss:
        rows.append(("peak RSS", format_bytes(run.rss.peak_bytes)))
        growth = run.rss.growth_per_message_bytes
        rows.append(
            (
                "RSS growth / message",
                f"{format_bytes(growth)} (harness's own taken out)"
                if growth is not None
                else f"not measured: {run.rss.growth_reason}",
            )
        )
    if run.heap is not None:
        rows += _heap_rows(run.heap, run)
    if run.cpu and run.cpu.profiled:
        share = format_share(run.cpu.backend_share)
        rows.append(("CPU samples in backend", f"{share} of {run.cpu.samples:,}"))
    elif run.cpu:
        rows.append(("CPU profile", f"not profiled: {run.cpu.reason}"))
    errors = ", ".join(f"{k}: {v:,}" for k, v in sorted(run.errors.items()))
    rows.append(("errors", f"{errors_cell(run)}: {errors}" if errors else "none"))
    return ReportTable(
        "details",
        f"{run.backend}: every figure of the run",
        (Column("figure", left=True), Column("value", left=True)),
        tuple(rows),
    )


def _latency_rows(run: RunResult) -> Rows:
    if run.latency is None:
        return []
    rows: Rows = []
    median = time_per_message(run)
    if median is not None:
        rows.append(("latency p50, 95 % CI", format_ns_range(median.low, median.high)))
    for label, dist in (("latency", run.latency.uncorrected), ("corrected", run.latency.corrected)):
        if dist is None:
            continue
        rows.append((f"{label} p50 / p90 / p99", _three(dist, ("p50", "p90", "p99"), format_ns)))
        rows.append((f"{label} p99.9 / max", _three(dist, ("p999", "max"), format_ns)))
    return rows


def _heap_rows(heap: HeapSummary, run: RunResult) -> Rows:
    if not heap.measurable:
        return [("heap per message", f"not measurable: {heap.reason}")]
    rows: Rows = []
    for label, dist, fmt in (
        ("heap peak / msg", heap.peak_bytes, format_bytes),
        ("allocated / msg", heap.allocated_bytes, format_bytes),
        ("native allocated / msg", heap.native_allocated_bytes, format_bytes),
        ("retained / msg", heap.retained_bytes, format_bytes),
        ("native retained / msg", heap.native_retained_bytes, format_bytes),
        ("allocations / msg", heap.allocations, _count),
        ("amplification", heap.amplification, format_ratio),
    ):
        if dist is not None:
            rows.append((f"{label} p50 / p99 / max", _three(dist, ("p50", "p99", "max"), fmt)))
    run_peak = format_bytes(heap.peak_heap_at_users_bytes)
    rows.append((f"run peak ({session_settings(run)})", run_peak))
    rows.append(("traced messages", f"{heap.traced_messages:,} ({heap.traced_selection})"))
    if heap.partial:
        rows.append(("heap figures partial", heap.partial_reason))
    return rows
