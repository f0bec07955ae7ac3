"""One self-contained HTML report for saved results: the summary table, plotly figures
(plotly.js inlined once, so the file opens without a network) and links to the profiles.

A result file is untrusted input: every string from it is escaped, and artefact links are
built from paths (percent-encoded, relative to the report where possible), never used as
given.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from treasure.files import check_output, write_text
from treasure.report import _plots
from treasure.report.units import format_bytes, format_ns
from treasure.results import CompareResult, Distribution, Result, RunResult, runs_of

Labelled = Sequence[tuple[str, RunResult]]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #222; max-width: 1400px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #555; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }
table.summary { width: 100%; }
th, td { padding: 4px 6px; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.name, th.name, td.text { text-align: left; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr));
         gap: 12px; }
.plot { min-width: 0; overflow: hidden; }
.note { color: #666; font-size: 12px; }
.hot { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
.hot > div { min-width: 0; overflow-x: auto; } .hot h3 { font-size: 15px; margin: 4px 0; }
table.hot td:first-child { white-space: normal; text-align: left; word-break: break-all; }
.failed { color: #a00; }
code { font-size: 12px; }
"""

SUMMARY_COLUMNS = (
    "backend",
    "kind",
    "library",
    "messages",
    "errors",
    "p50",
    "p99",
    "p99.9",
    "p99 corr.",
    "msg/s",
    "heap/msg p50",
    "heap/msg p99",
    "ampl. p50",
    "retained p50",
    "GC /1k msg",
    "GC pause max",
    "peak RSS",
    "RSS /msg",
    "CPU in backend",
)


def render_html(results: list[Result], output: Path) -> None:
    """Write one report for `results` (runs and comparisons) to `output`."""
    runs = labelled_runs(results)
    failed = {
        name: why
        for result in results
        if isinstance(result, CompareResult)
        for name, why in result.failed.items()
    }
    check_output(output)  # before the work of rendering
    write_text(output, render_page(results, runs, failed, output.parent))


def labelled_runs(results: Iterable[Result]) -> list[tuple[str, RunResult]]:
    """Every run with a label unique in the report (a backend seen twice gets `#2`)."""
    seen: Counter[str] = Counter()
    labelled = []
    for result in results:
        for run in runs_of(result):
            seen[run.backend] += 1
            count = seen[run.backend]
            labelled.append((run.backend if count == 1 else f"{run.backend} #{count}", run))
    return labelled


def render_page(
    results: Sequence[Result], runs: Labelled, failed: dict[str, str], base: Path
) -> str:
    sections = [
        _heading(results, runs),
        _section("Summary", summary_table(runs) + _failed(failed)),
        _plot_section("Latency", runs, _plots.latency_percentiles, _plots.latency_histogram),
        _plot_section(
            "Heap and memory",
            runs,
            _plots.heap_per_message,
            _plots.heap_over_time,
            _plots.rss_over_time,
            _plots.gc_pauses,
        ),
        _heap_notes(runs),
        _plot_section("CPU", runs, _plots.cpu_share),
        _cpu_details(runs),
        _errors(runs),
        _artefacts(runs, base),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f"<title>{escape(_title(results, runs))}</title>\n<style>{STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head><body>\n"
        + "\n".join(section for section in sections if section)
        + "\n</body></html>\n"
    )


def _title(results: Sequence[Result], runs: Labelled) -> str:
    recordings = sorted({run.recording.path for _, run in runs})
    what = "comparison" if any(isinstance(r, CompareResult) for r in results) else "replay"
    return f"treasure {what}: {', '.join(recordings) or 'no runs'}"


def _heading(results: Sequence[Result], runs: Labelled) -> str:
    lines = []
    for recording in {run.recording.path: run.recording for _, run in runs}.values():
        scenario = f", scenario {recording.scenario}" if recording.scenario else ""
        lines.append(
            f"recording <code>{escape(recording.path)}</code>: {recording.frames:,} messages, "
            f"{format_bytes(recording.payload_bytes)} of payload, "
            f"{recording.users:,} users{escape(scenario)}"
        )
    hosts = {f"Python {r.host.python} on {r.host.platform}, {r.host.cpus} CPUs" for _, r in runs}
    created = sorted({run.created_at for _, run in runs})
    lines += [escape(host) for host in sorted(hosts)]
    if created:
        lines.append(
            f"created {escape(created[0])}"
            + (f" to {escape(created[-1])}" if len(created) > 1 else "")
        )
    meta = "".join(f"<div class='meta'>{line}</div>" for line in lines)
    return f"<h1>{escape(_title(results, runs))}</h1>\n{meta}"


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>\n{body}</section>"


def _p(dist: Distribution | None, attr: str) -> float | None:
    return None if dist is None else float(getattr(dist, attr))


def summary_row(label: str, run: RunResult) -> list[str]:
    uncorrected = run.latency.uncorrected if run.latency else None
    corrected = run.latency.corrected if run.latency else None
    heap = run.heap if run.heap is not None and run.heap.measurable else None
    cpu = run.cpu
    if cpu is None:
        cpu_cell = "-"
    elif cpu.profiled:
        low, high = _plots.wilson(cpu.backend_samples, cpu.loop_samples)
        cpu_cell = f"{cpu.backend_share:.0%} ({low:.0%}-{high:.0%})"
    else:
        cpu_cell = "not profiled"
    heap_missing = "not measurable" if run.heap is not None and not run.heap.measurable else "-"
    return [
        label,
        run.backend_kind,
        f"{run.library} {run.library_version}".strip(),
        f"{run.messages:,}",
        f"{run.error_count:,}",
        format_ns(_p(uncorrected, "p50")),
        format_ns(_p(uncorrected, "p99")),
        format_ns(_p(uncorrected, "p999")),
        format_ns(_p(corrected, "p99")),
        f"{run.throughput_per_s:,.0f}",
        format_bytes(_p(heap.peak_bytes, "p50")) if heap else heap_missing,
        format_bytes(_p(heap.peak_bytes, "p99")) if heap else "-",
        f"{_p(heap.amplification, 'p50') or 0:,.0f}×" if heap and heap.amplification else "-",
        format_bytes(_p(heap.retained_bytes, "p50")) if heap else "-",
        f"{run.gc.collections_per_1k:.2f}" if run.gc else "-",
        format_ns(run.gc.pause_max_ns) if run.gc else "-",
        format_bytes(run.rss.peak_bytes) if run.rss else "-",
        format_bytes(run.rss.growth_per_message_bytes) if run.rss else "-",
        cpu_cell,
    ]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    head = "".join(
        f"<th class='name'>{escape(h)}</th>" if i == 0 else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='name'>{escape(cell)}</td>" if i == 0 else f"<td>{escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>\n"
        for row in rows
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def summary_table(runs: Labelled) -> str:
    note = (
        "<p class='note'>Latency: per message, from hand-over to the backend (corrected: from "
        "the intended send time under pacing). Heap: peak live bytes above the pre-message "
        "baseline, native allocations included (memray pass). CPU: share of the replay "
        "loop's samples inside the backend, with its 95 % interval (py-spy pass).</p>"
    )
    rows = [summary_row(label, run) for label, run in runs]
    return _table(SUMMARY_COLUMNS, rows, "summary") + note


def _failed(failed: dict[str, str]) -> str:
    if not failed:
        return ""
    items = "".join(
        f"<li><b>{escape(name)}</b>: {escape(why)}</li>" for name, why in failed.items()
    )
    return f"<div class='failed'>Backends that failed:<ul>{items}</ul></div>"


def _figure_html(figure: go.Figure, div_id: str) -> str:
    html: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return f"<div class='plot'>{html}</div>"


def _plot_section(
    title: str, runs: Labelled, *builders: Callable[[Labelled], go.Figure | None]
) -> str:
    plots = []
    for builder in builders:
        figure = builder(runs)
        if figure is not None:
            plots.append(_figure_html(figure, f"plot-{builder.__name__.replace('_', '-')}"))
    if not plots:
        return ""
    return _section(title, f"<div class='plots'>{''.join(plots)}</div>")


def _heap_notes(runs: Labelled) -> str:
    notes = []
    for label, run in runs:
        heap = run.heap
        if heap is None:
            continue
        if not heap.measurable:
            notes.append(f"<li><b>{escape(label)}</b>: not measurable: {escape(heap.reason)}</li>")
        elif heap.traced_selection:
            notes.append(
                f"<li><b>{escape(label)}</b>: {heap.traced_messages:,} messages traced "
                f"({escape(heap.traced_selection)})</li>"
            )
    return f"<ul class='note'>{''.join(notes)}</ul>" if notes else ""


def _cpu_details(runs: Labelled) -> str:
    blocks = []
    for label, run in runs:
        cpu = run.cpu
        if cpu is None:
            continue
        if not cpu.profiled:
            blocks.append(f"<p><b>{escape(label)}</b>: not profiled: {escape(cpu.reason)}</p>")
            continue
        slowdown = (
            f", replay loop {cpu.loop_ns / run.duration_ns:.2f}× as long as unprofiled"
            if cpu.loop_ns and run.duration_ns
            else ""
        )
        overhead = (
            f"{cpu.samples:,} samples at {cpu.rate_hz} Hz"
            f"{' with native frames' if cpu.native else ''}, {cpu.sample_errors} failed; "
            f"CPU pass {cpu.pass_seconds:.1f} s against {cpu.timing_pass_seconds:.1f} s for "
            f"the timing pass{slowdown}"
        )
        rows = [
            (function, f"{count:,}", "backend" if inside else "harness")
            for function, count, inside in cpu.hot_functions
        ]
        blocks.append(
            f"<div><h3>{escape(label)}</h3><p class='note'>{escape(overhead)}</p>"
            + _table(("innermost frame", "loop samples", "inside"), rows, "hot")
            + "</div>"
        )
    if not blocks:
        return ""
    return _section("CPU profile: hottest frames", f"<div class='hot'>{''.join(blocks)}</div>")


def _errors(runs: Labelled) -> str:
    rows = [
        (label, str(sample.frame_index), sample.category, sample.message)
        for label, run in runs
        for sample in run.error_samples
    ]
    stopped = [
        f"<li><b>{escape(label)}</b> stopped early: {escape(run.stopped_early)}</li>"
        for label, run in runs
        if run.stopped_early
    ]
    if not rows and not stopped:
        return ""
    body = f"<ul>{''.join(stopped)}</ul>" if stopped else ""
    if rows:
        body += _table(("backend", "frame", "category", "message"), rows, "errors")
    return _section("Errors (first samples)", body)


def artefact_href(path: str, base: Path) -> str:
    """A link to an artefact: relative to the report where it can be, percent-encoded, so
    no path in a result can become a script URL or break out of the attribute."""
    target = Path(path)
    if not target.is_absolute():
        target = Path.cwd() / target
    try:
        relative = os.path.relpath(target, base.resolve())
    except ValueError:  # another drive: no relative path exists
        return target.as_uri()
    return quote(Path(relative).as_posix(), safe="/")


def _artefacts(runs: Labelled, base: Path) -> str:
    items = []
    for label, run in runs:
        artefacts = {**run.artefacts}
        for summary in (run.heap, run.cpu):
            if summary is not None:
                artefacts.update(summary.artefacts)
        links = "".join(
            f"<li>{escape(name)}: <a href='{escape(artefact_href(path, base))}'>"
            f"<code>{escape(path)}</code></a></li>"
            for name, path in sorted(artefacts.items())
        )
        if links:
            items.append(f"<li><b>{escape(label)}</b><ul>{links}</ul></li>")
    if not items:
        return ""
    return _section(
        "Profiles and captures",
        f"<ul>{''.join(items)}</ul><p class='note'>Links are relative to this file; the "
        "speedscope JSON opens at https://www.speedscope.app.</p>",
    )
