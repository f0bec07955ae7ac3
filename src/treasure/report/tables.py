"""The report's tables, each narrow enough for an 80-column terminal: speed against the
baseline, latency, heap per message, memory and GC, CPU. Cells are our own strings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from treasure.report._plots import wilson
from treasure.report.soak import growth_words
from treasure.report.spread import Spread, same_work, speed_up, time_per_message
from treasure.report.units import (
    DASH,
    format_bytes,
    format_ns,
    format_ns_range,
    format_ratio,
    format_ratio_range,
    format_share,
)
from treasure.results import Distribution, RunResult

Labelled = Sequence[tuple[str, RunResult]]
EMPTY = "-"
NOISY = "?"  # marks a ratio whose interval does not rule out noise
NOT_COMPARABLE = "n/c"


@dataclass(frozen=True)
class Column:
    header: str
    left: bool = False  # names and words are left-aligned, figures right-aligned


@dataclass(frozen=True)
class ReportTable:
    key: str  # speed, latency, heap, memory, cpu, details
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def without_empty_columns(self) -> ReportTable:
        """Columns with no figure in any row ("-" everywhere) say nothing: drop them."""
        keep = [
            index
            for index in range(len(self.columns))
            if index == 0 or any(row[index] != EMPTY for row in self.rows)
        ]
        return replace(
            self,
            columns=tuple(self.columns[i] for i in keep),
            rows=tuple(tuple(row[i] for i in keep) for row in self.rows),
        )


def _columns(*headers: str, left: int = 1) -> tuple[Column, ...]:
    return tuple(Column(header, left=index < left) for index, header in enumerate(headers))


def _p(dist: Distribution | None, attr: str) -> float | None:
    return None if dist is None else float(getattr(dist, attr))


def errors_cell(run: RunResult) -> str:
    if not run.error_count:
        return "0"
    return f"{run.error_count:,} ({format_share(run.error_count / max(run.messages, 1))})"


def speed_table(labelled: Labelled, base: RunResult | None) -> ReportTable:
    headers = ["backend", "p50/msg", "95 % CI"]
    if base is not None:
        headers += ["speed-up", "95 % CI"]
    rows, notes = [], []
    for label, run in labelled:
        median = time_per_message(run)
        p50 = _p(run.latency.uncorrected, "p50") if run.latency else None
        row = [label, format_ns(p50), format_ns_range(median.low, median.high) if median else EMPTY]
        if base is not None:
            cells, note = _speed_up_cells(label, run, base)
            row += cells
            notes += note
        rows.append((*row, errors_cell(run)))
        if run.error_count:
            notes.append(
                f"{label}: {errors_cell(run)} of {run.messages:,} messages failed "
                f"({_categories(run)}); its times include the failures"
            )
    against = f"; speed-up against {base.backend}" if base is not None else ""
    return ReportTable(
        "speed",
        f"time per message: median with its 95 % interval over blocks of messages{against}",
        _columns(*headers, "errors"),
        tuple(rows),
        tuple(notes),
    )


def _categories(run: RunResult) -> str:
    return ", ".join(f"{category} {count:,}" for category, count in sorted(run.errors.items()))


def _speed_up_cells(label: str, run: RunResult, base: RunResult) -> tuple[list[str], list[str]]:
    if run is base:
        return ["1.00×", EMPTY], []
    why = same_work(run, base)
    if why:
        return [NOT_COMPARABLE, EMPTY], [f"{label}: not a speed-up against {base.backend}: {why}"]
    spread = speed_up(run, base)
    if spread is None:
        ratio = _p_ratio(run, base)
        note = f"{label}: too few messages for an interval (fewer than 3 blocks of medians)"
        return [format_ratio(ratio), EMPTY], [note] if ratio is not None else []
    cells = [format_ratio(spread.value), format_ratio_range(spread.low, spread.high)]
    if not spread.noisy:
        return cells, []
    cells[0] += NOISY
    return cells, [_noise_note(label, base.backend, spread)]


def _noise_note(label: str, baseline: str, spread: Spread) -> str:
    where = "contains 1×" if spread.low <= 1 <= spread.high else "is wider than the gain"
    return (
        f"{label} {NOISY}: {format_ratio(spread.value)} against {baseline}, but its 95 % interval "
        f"{format_ratio_range(spread.low, spread.high)} {where}: no difference beyond noise"
    )


def _p_ratio(run: RunResult, base: RunResult) -> float | None:
    ours = _p(run.latency.uncorrected, "p50") if run.latency else None
    theirs = _p(base.latency.uncorrected, "p50") if base.latency else None
    return theirs / ours if ours and theirs else None


def latency_table(labelled: Labelled) -> ReportTable:
    rows = []
    for label, run in labelled:
        latency = run.latency
        uncorrected = latency.uncorrected if latency else None
        corrected = latency.corrected if latency else None
        rows.append(
            (
                label,
                run.backend_kind,
                format_ns(_p(uncorrected, "p99")),
                format_ns(_p(uncorrected, "p999")),
                format_ns(_p(uncorrected, "max")),
                format_ns(_p(corrected, "p99")),
                f"{run.throughput_per_s:,.0f}",
            )
        )
    return ReportTable(
        "latency",
        "latency per message (timing pass, no tracer attached)",
        _columns("backend", "kind", "p99", "p99.9", "max", "p99 corrected", "msg/s", left=2),
        tuple(rows),
        ("corrected: from each message's intended send time under --pace",)
        if any(run.latency and run.latency.corrected for _, run in labelled)
        else (),
    )


def heap_ratio(run: RunResult, base: RunResult) -> float | None:
    """How many times less peak heap per message (p50) `run` needs than `base`."""
    ours, theirs = _measured_peak(run), _measured_peak(base)
    return theirs / ours if ours and theirs else None


def _measured_peak(run: RunResult) -> float | None:
    heap = run.heap
    if heap is None or not heap.measurable or heap.peak_bytes is None:
        return None
    return heap.peak_bytes.p50


def heap_table(labelled: Labelled, base: RunResult | None) -> ReportTable:
    rows, notes = [], []
    for label, run in labelled:
        heap = run.heap
        if heap is None:
            continue
        if not heap.measurable:
            rows.append((label, "not measurable", *[EMPTY] * 4))
            notes.append(f"{label}: heap not measurable: {heap.reason}")
            continue
        ratio = heap_ratio(run, base) if base is not None else None
        rows.append(
            (
                label,
                format_bytes(_p(heap.peak_bytes, "p50")),
                format_bytes(_p(heap.peak_bytes, "p99")),
                format_ratio(_p(heap.amplification, "p50")),
                format_bytes(_p(heap.retained_bytes, "p50")),
                format_ratio(ratio),
            )
        )
    against = f"; less heap: {base.backend}'s peak p50 over this one's" if base is not None else ""
    return ReportTable(
        "heap",
        "heap per message: peak live bytes above the pre-message baseline, native included "
        f"(memray pass){against}",
        _columns("backend", "peak p50", "peak p99", "ampl. p50", "retained p50", "less heap"),
        tuple(rows),
        tuple(notes),
    )


def session_settings(run: RunResult) -> str:
    """The session model's options that produced a run peak, as they are passed."""
    config = run.config
    return f"--users {config.users} --keep {config.keep} --in-flight {config.in_flight}"


def memory_table(labelled: Labelled) -> ReportTable:
    rows = []
    for label, run in labelled:
        heap, gc, rss = run.heap, run.gc, run.rss
        peak = heap.peak_heap_at_users_bytes if heap is not None and heap.measurable else None
        rows.append(
            (
                label,
                format_bytes(peak),
                f"{gc.collections_per_1k:.2f}" if gc else EMPTY,
                _pause(gc.pause_max_ns, gc.collections) if gc else EMPTY,
                format_bytes(rss.peak_bytes) if rss else EMPTY,
                format_bytes(rss.growth_per_message_bytes) if rss else EMPTY,
            )
        )
    settings = sorted(
        {
            session_settings(run)
            for _, run in labelled
            if run.heap is not None and run.heap.peak_heap_at_users_bytes is not None
        }
    )
    notes = tuple(f"run peak: the heap pass's peak live heap with {s}" for s in settings)
    return ReportTable(
        "memory",
        "memory and GC: run peak with the session model's state, GC of the timing pass, RSS",
        _columns("backend", "run peak", "GC /1k msg", "GC pause max", "peak RSS", "RSS /msg"),
        tuple(rows),
        notes,
    )


def _pause(pause_ns: int, collections: int) -> str:
    """No collection ran: there is no pause to show, and "0 ns" would read as a measured one."""
    return format_ns(pause_ns) if collections else "none"


def cpu_table(labelled: Labelled) -> ReportTable:
    rows, notes = [], []
    for label, run in labelled:
        cpu = run.cpu
        if cpu is None:
            continue
        if not cpu.profiled:
            rows.append((label, "not profiled", EMPTY, EMPTY))
            notes.append(f"{label}: not profiled: {cpu.reason}")
            continue
        low, high = wilson(cpu.backend_samples, cpu.loop_samples)
        interval = f"{format_share(low)}{DASH}{format_share(high)}"
        rows.append((label, format_share(cpu.backend_share), interval, f"{cpu.samples:,}"))
    return ReportTable(
        "cpu",
        "CPU: share of the replay loop's samples inside the backend (py-spy pass)",
        _columns("backend", "in backend", "95 % CI", "samples"),
        tuple(rows),
        tuple(notes),
    )


def own_figures(run: RunResult) -> str:
    """One run's figures in words, for a headline without a baseline."""
    parts = []
    if run.latency is not None:
        parts.append(f"{format_ns(run.latency.uncorrected.p50)} per message (p50)")
    peak = _measured_peak(run)
    if peak is not None:
        parts.append(f"{format_bytes(peak)} peak heap per message (p50)")
    if run.error_count:
        parts.append(f"{errors_cell(run)} messages failed")
    if growth := growth_words(run):
        parts.append(growth)
    return ", ".join(parts) or "no figures measured"
