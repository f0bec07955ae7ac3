"""The HTML report's sections beyond the summary tables: plots, heap and CPU details,
errors and artefact links. Every string from a result is escaped here too."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

import plotly.graph_objects as go

from treasure.results import RunResult

Labelled = Sequence[tuple[str, RunResult]]


def section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>\n{body}</section>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
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


def failed_list(failed: dict[str, str]) -> str:
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


def plot_section(
    title: str, runs: Labelled, *builders: Callable[[Labelled], go.Figure | None]
) -> str:
    plots = []
    for builder in builders:
        figure = builder(runs)
        if figure is not None:
            plots.append(_figure_html(figure, f"plot-{builder.__name__.replace('_', '-')}"))
    if not plots:
        return ""
    return section(title, f"<div class='plots'>{''.join(plots)}</div>")


def heap_notes(runs: Labelled) -> str:
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


def cpu_details(runs: Labelled) -> str:
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
            + table(("innermost frame", "loop samples", "inside"), rows, "hot")
            + "</div>"
        )
    if not blocks:
        return ""
    return section("CPU profile: hottest frames", f"<div class='hot'>{''.join(blocks)}</div>")


def errors(runs: Labelled) -> str:
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
        body += table(("backend", "frame", "category", "message"), rows, "errors")
    return section("Errors (first samples)", body)


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


def artefact_links(runs: Labelled, base: Path) -> str:
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
    return section(
        "Profiles and captures",
        f"<ul>{''.join(items)}</ul><p class='note'>Links are relative to this file; the "
        "speedscope JSON opens at https://www.speedscope.app.</p>",
    )
