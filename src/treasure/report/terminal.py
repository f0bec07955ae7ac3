"""Rich tables for a run and for a comparison."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from treasure.report.units import format_bytes, format_ns, format_ratio
from treasure.results import CompareResult, Distribution, Result, RunResult


def _p(dist: Distribution | None, attr: str) -> float | None:
    return None if dist is None else float(getattr(dist, attr))


def heap_cells(run: RunResult) -> tuple[str, str, str, str, str]:
    heap = run.heap
    if heap is None:
        return ("-",) * 5
    if not heap.measurable:
        return ("not measurable",) + ("-",) * 4
    return (
        format_bytes(_p(heap.peak_bytes, "p50")),
        format_bytes(_p(heap.peak_bytes, "p99")),
        f"{_p(heap.amplification, 'p50') or 0:.0f}×",
        format_bytes(_p(heap.retained_bytes, "p50")),
        format_bytes(heap.peak_heap_at_users_bytes),
    )


def cpu_cell(run: RunResult) -> str:
    if run.cpu is None:
        return "-"
    if not run.cpu.profiled:
        return "not profiled"
    return f"{run.cpu.backend_share:.0%} of {run.cpu.samples} samples"


def render_compare(result: CompareResult, console: Console) -> None:
    rec = result.recording
    table = Table(
        title=f"{rec.path}: {rec.frames} messages, {rec.users} users"
        + (f", scenario {rec.scenario}" if rec.scenario else ""),
        caption=f"speed-up against {result.baseline}; heap/msg: peak live bytes above the "
        "pre-message baseline, native included (memray pass); run peak: live heap with what "
        "the session model keeps (--users, --keep)",
    )
    for header in ("backend", "kind", "µs/msg p50", "p99", "speed-up", "msg/s"):
        table.add_column(header, justify="left" if header in ("backend", "kind") else "right")
    for header in ("heap/msg p50", "p99", "ampl.", "retained", "run peak", "GC/1k", "errors"):
        table.add_column(header, justify="right")
    profiled = any(run.cpu is not None for run in result.runs)
    if profiled:
        table.add_column("CPU in backend", justify="right")
    base = next((r for r in result.runs if r.backend == result.baseline), None)
    base_p50 = _p(base.latency.uncorrected, "p50") if base and base.latency else None
    for run in result.runs:
        p50 = _p(run.latency.uncorrected, "p50") if run.latency else None
        ratio = base_p50 / p50 if base_p50 and p50 else None
        table.add_row(
            run.backend,
            run.backend_kind,
            f"{p50 / 1000:.1f}" if p50 is not None else "-",
            f"{(_p(run.latency.uncorrected, 'p99') or 0) / 1000:.1f}" if run.latency else "-",
            format_ratio(ratio),
            f"{run.throughput_per_s:,.0f}",
            *heap_cells(run),
            f"{run.gc.collections_per_1k:.2f}" if run.gc else "-",
            str(run.error_count),
            *([cpu_cell(run)] if profiled else []),
        )
    console.print(table)
    for name, why in result.failed.items():
        console.print(f"[bold red]{name}[/]: {why}")


def render_run(run: RunResult, console: Console) -> None:
    table = Table(title=f"{run.backend} ({run.backend_kind}, {run.library} {run.library_version})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("messages", f"{run.messages:,}")
    table.add_row("throughput", f"{run.throughput_per_s:,.0f} msg/s")
    if run.payload_size:
        table.add_row(
            "payload p50 / max", f"{run.payload_size.p50:.0f} / {run.payload_size.max:.0f} B"
        )
    if run.latency:
        for label, dist in (
            ("latency", run.latency.uncorrected),
            ("corrected", run.latency.corrected),
        ):
            if dist is None:
                continue
            table.add_row(
                f"{label} p50 / p90 / p99",
                " / ".join(format_ns(getattr(dist, a)) for a in ("p50", "p90", "p99")),
            )
            table.add_row(f"{label} p99.9 / max", f"{format_ns(dist.p999)} / {format_ns(dist.max)}")
    if run.gc:
        table.add_row(
            "GC collections (per 1k msg)", f"{run.gc.collections} ({run.gc.collections_per_1k:.2f})"
        )
        table.add_row(
            "GC pause total / p99 / max",
            " / ".join(
                format_ns(v)
                for v in (run.gc.pause_total_ns, run.gc.pause_p99_ns, run.gc.pause_max_ns)
            ),
        )
    if run.rss:
        table.add_row("peak RSS", format_bytes(run.rss.peak_bytes))
        growth = run.rss.growth_per_message_bytes
        table.add_row(
            "RSS growth / message",
            f"{growth:.1f} B (harness's own taken out)"
            if growth is not None
            else f"not measured: {run.rss.growth_reason}",
        )
    _heap_rows(run, table)
    if run.cpu and run.cpu.profiled:
        table.add_row("CPU samples in backend", f"{run.cpu.backend_share:.0%} of {run.cpu.samples}")
    elif run.cpu:
        table.add_row("CPU profile", run.cpu.reason)
    table.add_row("errors", ", ".join(f"{k}: {v}" for k, v in run.errors.items()) or "none")
    console.print(table)
    if run.stopped_early:
        console.print(f"[yellow]stopped early:[/] {run.stopped_early}")
    for name, path in run.artefacts.items():
        console.print(f"{name}: {path}")


def _heap_rows(run: RunResult, table: Table) -> None:
    heap = run.heap
    if heap is None:
        return
    if not heap.measurable:
        table.add_row("heap per message", f"not measurable: {heap.reason}")
        return
    for label, dist, fmt in (
        ("heap peak / msg", heap.peak_bytes, format_bytes),
        ("allocated / msg", heap.allocated_bytes, format_bytes),
        ("native allocated / msg", heap.native_allocated_bytes, format_bytes),
        ("retained / msg", heap.retained_bytes, format_bytes),
        ("native retained / msg", heap.native_retained_bytes, format_bytes),
        ("allocations / msg", heap.allocations, lambda v: f"{v:,.0f}"),
        ("amplification", heap.amplification, lambda v: f"{v:,.0f}×"),
    ):
        if dist is not None:
            table.add_row(
                f"{label} p50 / p99 / max",
                " / ".join(fmt(getattr(dist, a)) for a in ("p50", "p99", "max")),
            )
    label = f"peak heap at {heap.users} users" if heap.users else "peak heap of the run"
    table.add_row(label, format_bytes(heap.peak_heap_at_users_bytes))
    table.add_row("traced messages", f"{heap.traced_messages} ({heap.traced_selection})")


def render(result: Result, console: Console) -> None:
    if isinstance(result, CompareResult):
        render_compare(result, console)
    else:
        render_run(result, console)
