"""One self-contained HTML report for saved results: the headline, the report's tables (the
same rows the terminal prints), plotly figures (plotly.js inlined once, so the file opens
without a network) and links to the profiles.

A result file is untrusted input: every string from it is escaped, and artefact links are
built from paths (percent-encoded, relative to the report where possible), never used as
given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from plotly.offline import get_plotlyjs

from treasure.files import check_output, write_text
from treasure.growth.sweep import SweepResult
from treasure.report import _plots, target_plots
from treasure.report.details import details_table
from treasure.report.html_sections import (
    _figure_html,
    artefact_href,
    artefact_links,
    cpu_details,
    errors,
    failed_list,
    heap_notes,
    plot_section,
    section,
)
from treasure.report.rows import Report, ReportTable, build_report, build_runs_report
from treasure.report.soak import soak_heap, soak_rss, soak_tables
from treasure.report.sweep import knee_figures, sweep_report
from treasure.report.units import format_bytes
from treasure.results import CompareResult, Result, RunResult, runs_of

__all__ = ["HtmlRenderer", "artefact_href", "labelled_runs", "render_html", "render_page"]

Labelled = Sequence[tuple[str, RunResult]]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #222; max-width: 1400px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
h3 { font-size: 14px; margin: 18px 0 2px; font-weight: 600; }
.meta { color: #555; font-size: 13px; }
.headline { font-size: 19px; margin: 14px 0 6px; padding: 10px 14px; background: #f3f7fb;
            border-left: 4px solid #2a6fb0; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr));
          gap: 4px 28px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: right; }
td { white-space: nowrap; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
td.name, th.name, td.text { text-align: left; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr));
         gap: 12px; }
.plot { min-width: 0; overflow: hidden; }
.note { color: #666; font-size: 12px; margin: 2px 0 0 0; padding-left: 18px; }
.hot { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
.hot > div { min-width: 0; overflow-x: auto; } .hot h3 { font-size: 15px; margin: 4px 0; }
table.hot td:first-child { white-space: normal; text-align: left; word-break: break-all; }
.failed { color: #a00; } .warning { color: #8a5a00; }
code { font-size: 12px; }
"""


class HtmlRenderer:
    """One result as a whole HTML page (pyinstrument's shape: one `render(result)`)."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = base or Path.cwd()  # artefact links are made relative to it

    def render(self, result: Result) -> str:
        return render_page([result], self.base)


def render_html(results: Sequence[Result | SweepResult], output: Path) -> None:
    """Write one report for `results` (runs and comparisons) to `output`."""
    check_output(output)  # before the work of rendering
    write_text(output, render_page(results, output.parent))


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


def report_of(results: Sequence[Result], runs: Labelled) -> Report:
    """One result's own report; several results' runs side by side, against the first
    comparison's baseline."""
    if len(results) == 1:
        return build_report(results[0])
    compares = [result for result in results if isinstance(result, CompareResult)]
    failed = {name: why for result in compares for name, why in result.failed.items()}
    baseline = compares[0].baseline if compares else None
    return build_runs_report(runs, baseline, title=_title(results, runs), failed=failed)


def render_page(everything: Sequence[Result | SweepResult], base: Path) -> str:
    results = [result for result in everything if not isinstance(result, SweepResult)]
    sweeps = [result for result in everything if isinstance(result, SweepResult)]
    sweep_parts = [_sweep_section(sweep, index) for index, sweep in enumerate(sweeps)]
    if sweeps and not results:
        return _page(" · ".join(sweep_report(sweep).title for sweep in sweeps), sweep_parts)
    runs = labelled_runs(results)
    report = report_of(results, runs)
    sections = [
        _heading(results, runs, report),
        section("Summary", _tables(report) + failed_list(report.failed) + _warnings(report)),
        plot_section("Latency", runs, _plots.latency_percentiles, _plots.latency_histogram),
        plot_section(
            "Heap and memory",
            runs,
            _plots.heap_per_message,
            _plots.heap_over_time,
            _plots.rss_over_time,
            _plots.gc_pauses,
        ),
        heap_notes(runs),
        soak_tables(runs),
        plot_section("Growth over the soak", runs, soak_heap, soak_rss),
        plot_section("CPU", runs, _plots.cpu_share),
        plot_section("Target", runs, *target_plots.FIGURES),
        cpu_details(runs),
        errors(runs),
        _run_details(report, runs),
        artefact_links(runs, base),
        *sweep_parts,
    ]
    return _page(_title(results, runs), sections)


def _page(title: str, sections: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head><body>\n"
        + "\n".join(part for part in sections if part)
        + "\n</body></html>\n"
    )


def _sweep_section(sweep: SweepResult, index: int) -> str:
    """A sweep's headline, tables and plots (points, fitted segments, knee)."""
    report = sweep_report(sweep)
    plots = "".join(
        _figure_html(figure, f"{div_id}-{index}") for div_id, figure in knee_figures(sweep)
    )
    body = (
        f"<p class='headline'>{escape(report.headline)}</p>"
        + _tables(report)
        + (f"<div class='plots'>{plots}</div>" if plots else "")
    )
    return section(report.title, body)


def _title(results: Sequence[Result], runs: Labelled) -> str:
    recordings = sorted({run.recording.path for _, run in runs})
    what = "comparison" if any(isinstance(r, CompareResult) for r in results) else "replay"
    return f"treasure {what}: {', '.join(recordings) or 'no runs'}"


def _heading(results: Sequence[Result], runs: Labelled, report: Report) -> str:
    lines = []
    for recording in {run.recording.path: run.recording for _, run in runs}.values():
        scenario = f", scenario {recording.scenario}" if recording.scenario else ""
        lines.append(
            f"recording <code>{escape(recording.path)}</code>: "
            f"{recording.messages_measured:,} messages measured, "
            f"{format_bytes(recording.payload_bytes_measured)} of payload, "
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
    headline = f"<p class='headline'>{escape(report.headline)}</p>" if runs else ""
    return f"<h1>{escape(_title(results, runs))}</h1>\n{headline}\n{meta}"


def report_table(table: ReportTable) -> str:
    """A report table as HTML: our cells, escaped, aligned as the terminal aligns them."""
    align = ["name" if column.left else "" for column in table.columns]
    head = "".join(
        f"<th class='{css}'>{escape(column.header)}</th>"
        for css, column in zip(align, table.columns, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{css}'>{escape(cell)}</td>" for css, cell in zip(align, row, strict=True)
        )
        + "</tr>\n"
        for row in table.rows
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in table.notes)
    return (
        f"<div><h3>{escape(table.title)}</h3>"
        f"<table class='{table.key}'><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody>"
        "</table>" + (f"<ul class='note'>{notes}</ul>" if notes else "") + "</div>"
    )


def _tables(report: Report) -> str:
    return "<div class='tables'>" + "".join(report_table(t) for t in report.tables) + "</div>"


def _warnings(report: Report) -> str:
    return "".join(f"<p class='warning'>{escape(warning)}</p>" for warning in report.warnings)


def _run_details(report: Report, runs: Labelled) -> str:
    """Every figure of each run, folded away, unless the report already shows them."""
    if any(table.key == "details" for table in report.tables):
        return ""
    blocks = "".join(
        f"<details><summary>{escape(label)}</summary>{report_table(details_table(run))}</details>"
        for label, run in runs
    )
    return section("Every figure, run by run", blocks) if blocks else ""
