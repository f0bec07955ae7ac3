"""The report as data: titled tables of our own cells (strings), notes and a headline.

Every renderer (terminal, HTML) draws these same rows, so a figure reads the same wherever it
is shown and a test can check what a report says without reading any library's drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from treasure.report import tables
from treasure.report.details import details_table
from treasure.report.rounds import rounds_table
from treasure.report.spread import same_work, speed_up
from treasure.report.tables import Column, ReportTable
from treasure.report.units import format_ratio, format_ratio_range
from treasure.results import CompareResult, RecordingInfo, Result, RunResult

Labelled = Sequence[tuple[str, RunResult]]
SAME_HEAP = 0.05  # heap ratios within 5 % of 1 are said to be the same, not "1.01× less"

__all__ = ["Column", "Report", "ReportTable", "build_report", "build_runs_report", "headline"]


@dataclass(frozen=True)
class Report:
    title: str
    headline: str
    tables: tuple[ReportTable, ...]
    failed: dict[str, str] = field(default_factory=dict)  # backend -> why its run failed
    warnings: tuple[str, ...] = ()

    def cells(self) -> list[str]:
        """Every cell of every table, headers excluded: what a renderer must show whole."""
        return [cell for table in self.tables for row in table.rows for cell in row]


def build_report(result: Result) -> Report:
    """The report of one result: a comparison's tables, or one run's tables and details."""
    if isinstance(result, CompareResult):
        labelled = [(run.backend, run) for run in result.runs]
        title = _recording_title(result.recording)
        report = build_runs_report(labelled, result.baseline, title=title, failed=result.failed)
        return _with_rounds(report, result) if result.rounds and result.rounds.backends else report
    report = build_runs_report([(result.backend, result)], None, title=_run_title(result))
    # one run's tables would repeat its details row for row: keep their notes only
    notes = tuple(n for table in report.tables if table.key != "memory" for n in table.notes)
    details = details_table(result)
    return replace(report, tables=(replace(details, notes=details.notes + notes),))


def build_runs_report(
    labelled: Labelled,
    baseline: str | None,
    *,
    title: str,
    failed: dict[str, str] | None = None,
) -> Report:
    """Tables over labelled runs (from one comparison or several result files)."""
    base = next((run for label, run in labelled if label == baseline), None)
    built = [
        tables.speed_table(labelled, base),
        tables.latency_table(labelled),
        tables.heap_table(labelled, base),
        tables.memory_table(labelled),
        tables.cpu_table(labelled),
    ]
    warnings = tuple(
        f"{label} stopped early: {run.stopped_early}"
        for label, run in labelled
        if run.stopped_early
    )
    return Report(
        title=title,
        headline=headline(labelled, base) if labelled else _nothing_measured(failed),
        tables=tuple(table.without_empty_columns() for table in built if table.rows),
        failed=dict(failed or {}),
        warnings=warnings,
    )


def _with_rounds(report: Report, result: CompareResult) -> Report:
    """The interleaved rounds' table right after the speed table it stands beside."""
    assert result.rounds is not None
    keys = [table.key for table in report.tables]
    at = keys.index("speed") + 1 if "speed" in keys else 0
    built = rounds_table(result.rounds).without_empty_columns()
    return replace(report, tables=(*report.tables[:at], built, *report.tables[at:]))


def _nothing_measured(failed: dict[str, str] | None) -> str:
    """The headline of a comparison in which no backend finished a run."""
    if not failed:
        return "no backend was measured"
    return f"no backend was measured: {len(failed)} failed ({', '.join(sorted(failed))})"


def _recording_title(recording: RecordingInfo) -> str:
    scenario = f", scenario {recording.scenario}" if recording.scenario else ""
    measured = f"{recording.messages_measured:,} messages measured"
    return f"{recording.path}: {measured}, {recording.users:,} users{scenario}"


def _run_title(run: RunResult) -> str:
    library = f"{run.library} {run.library_version}".strip()
    return f"{run.backend} ({run.backend_kind}, {library}) on {_recording_title(run.recording)}"


def _where(run: RunResult) -> str:
    recording = run.recording
    name = recording.scenario or Path(recording.path).stem
    return f"on {name}, {recording.users:,} users"


def headline(labelled: Labelled, base: RunResult | None) -> str:
    """The finding in one sentence: the fastest backend against the baseline, or one run's
    own figures; the interval is written out when the ratio is within noise."""
    if base is None or len(labelled) < 2:
        label, run = labelled[0]
        return f"{label}: {tables.own_figures(run)} {_where(run)}"
    candidates = [
        (spread.value, label, run, spread)
        for label, run in labelled
        if run is not base and not same_work(run, base)
        for spread in [speed_up(run, base)]
        if spread is not None
    ]
    if not candidates:
        return f"{base.backend}: {tables.own_figures(base)} {_where(base)}"
    _, label, run, spread = max(candidates, key=lambda found: found[0])
    if spread.value >= 1:
        speed = f"{format_ratio(spread.value)} faster"
    else:
        speed = f"{format_ratio(1 / spread.value)} slower"
    if spread.noisy:
        speed += f" ({format_ratio_range(spread.low, spread.high)}: within noise)"
    parts = [speed]
    heap = tables.heap_ratio(run, base)
    if heap is not None and abs(heap - 1) < SAME_HEAP:
        parts.append("about the same heap per message")
    elif heap is not None:
        amount = "less" if heap >= 1 else "more"
        parts.append(f"{format_ratio(heap if heap >= 1 else 1 / heap)} {amount} heap per message")
    return f"{label}: {', '.join(parts)} than {base.backend} {_where(base)}"
