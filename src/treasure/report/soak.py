"""The soak's part of a report: growth per message with its interval and verdict (terminal
table and HTML), and the plots of heap and RSS over messages with the fitted line and band."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import plotly.graph_objects as go
from rich.console import Console
from rich.markup import escape as markup_escape
from rich.table import Table

from treasure.growth.slope import GrowthEstimate
from treasure.growth.soak import Sample, SoakSummary, heap_bytes, rss_bytes
from treasure.report import _plots
from treasure.report.html_sections import section, table
from treasure.report.units import DASH, format_bytes, format_share
from treasure.results import RunResult

Labelled = Sequence[tuple[str, RunResult]]
MIB = 2**20


def per_message(value: float) -> str:
    """Bytes per message, with the decimals a small slope needs: 0.52 B, 585.1 B, 4.0 KiB."""
    if abs(value) < 10:
        return f"{value:.2f} B"
    return f"{value:.1f} B" if abs(value) < 1024 else format_bytes(value)


def interval(estimate: GrowthEstimate) -> str:
    return f"{per_message(estimate.low)} {DASH} {per_message(estimate.high)}"


def growth_rows(name: str, estimate: GrowthEstimate | None, why_not: str) -> list[list[str]]:
    if estimate is None:
        return [[name, "-", "-", "-", f"not measured: {why_not}"]]
    return [[name, per_message(estimate.slope), interval(estimate),
             per_message(estimate.resolution), estimate.verdict]]  # fmt: skip


def growth_words(run: RunResult) -> str:
    """A soak's finding for a headline: its verdict, slope and interval; "" for no soak."""
    growth = run.soak.growth if run.soak is not None else None
    if run.soak is None or growth is None:
        return ""
    return (
        f"{growth.series} growth {per_message(growth.slope)} per message "
        f"(95 % {interval(growth)}): {run.soak.verdict}"
    )


GROWTH_HEADERS = ["series", "slope / msg", "95 % interval", "resolution", "verdict"]


def soak_facts(soak: SoakSummary) -> list[tuple[str, str]]:
    """What the soak did and how it was judged, as (figure, value) rows."""
    growth = soak.growth
    rows = [
        ("verdict", soak.verdict + (f" ({soak.stop_reason})" if soak.stop_reason else "")),
        ("messages (warm-up not fitted)", f"{soak.messages:,} ({soak.warmup_messages:,})"),
        ("recording loops", f"{soak.loops:,} of {soak.recording_frames:,} frames"),
    ]
    if soak.target:
        rows.append(("samples", f"{len(soak.samples):,}, of the target's RSS over time"))
    else:
        rows += [
            ("samples (every K messages)", f"{len(soak.samples):,} (K = {soak.sample_every:,})"),
            ("sampling cost: typical (measured)",
             f"{format_share(soak.typical_sampling_share)} ({format_share(soak.sampling_share)}) "
             f"of the loop, {soak.sample_median_ns / 1000:,.0f} µs a sample"),
        ]  # fmt: skip
    rows += [
        ("heap counter", soak.heap_counter or f"none: {soak.heap_unavailable}"),
    ]
    if growth is not None:
        rows += [
            ("method", growth.method),
            ("block length, resamples, seed",
             f"{growth.block_length} samples, {growth.resamples:,}, {growth.seed}"),
            ("verdict from", f"{growth.series}: {growth.reason}"),
        ]  # fmt: skip
    if soak.stopped_at_message is not None and soak.stopped_at_rss_bytes is not None:
        rows.append(("stopped at", f"message {soak.stopped_at_message:,}, "
                                   f"RSS {format_bytes(soak.stopped_at_rss_bytes)}"))  # fmt: skip
    return rows


def render_soak(run: RunResult, out: Console) -> None:
    soak = run.soak
    if soak is None:
        return
    growth = Table(title=f"growth per message: {run.backend}", title_justify="left")
    for index, header in enumerate(GROWTH_HEADERS):
        growth.add_column(header, justify="left" if index in (0, 4) else "right")
    for row in growth_rows("heap", soak.heap, soak.heap_reason) + growth_rows(
        "rss", soak.rss, soak.rss_reason
    ):
        growth.add_row(*(markup_escape(cell) for cell in row))
    out.print(growth)
    facts = Table(show_header=False, box=None, pad_edge=False)
    facts.add_column("figure")
    facts.add_column("value")
    for name, value in soak_facts(soak):
        facts.add_row(markup_escape(name), markup_escape(value))
    out.print(facts)


def _series_plot(
    title: str, runs: Labelled, value: Callable[[Sample], int], pick: str
) -> go.Figure | None:
    figure = _plots._figure(title, "message", "MiB")
    for index, (label, run) in enumerate(runs):
        soak = run.soak
        estimate = getattr(soak, pick, None) if soak is not None else None
        if soak is None or not soak.samples or (pick == "heap" and soak.heap_unavailable):
            continue
        colour = _plots.colour(index)
        messages = [sample[0] for sample in soak.samples]
        figure.add_scatter(
            x=messages, y=[value(s) / MIB for s in soak.samples], mode="lines",
            name=escape(label), line={"color": colour},
            hovertemplate="message %{x}: %{y:,.3f} MiB",
        )  # fmt: skip
        if estimate is not None:
            _add_fit(figure, escape(label), estimate, colour)
    return figure if figure.data else None


def _add_fit(figure: go.Figure, label: str, fit: GrowthEstimate, colour: str) -> None:
    """The fitted line, and the band its 95 % interval of slopes sweeps about the pivot."""
    xs = [fit.first_message, fit.last_message]
    pivot_y = fit.intercept + fit.slope * fit.mean_message

    def line(slope: float) -> list[float]:
        return [(pivot_y + slope * (x - fit.mean_message)) / MIB for x in xs]

    low, high = line(fit.low), line(fit.high)
    lower = [min(a, b) for a, b in zip(low, high, strict=True)]
    upper = [max(a, b) for a, b in zip(low, high, strict=True)]
    figure.add_scatter(x=xs, y=lower, mode="lines", line={"width": 0}, showlegend=False,
                       hoverinfo="skip")  # fmt: skip
    figure.add_scatter(
        x=xs, y=upper, mode="lines", line={"width": 0}, fill="tonexty", opacity=0.3,
        fillcolor=colour, name=f"{label} 95 % band", hoverinfo="skip",
    )  # fmt: skip
    figure.add_scatter(
        x=xs, y=line(fit.slope), mode="lines", line={"color": colour, "dash": "dash"},
        name=f"{label} fit: {per_message(fit.slope)}/msg ({fit.verdict})",
    )  # fmt: skip


def soak_heap(runs: Labelled) -> go.Figure | None:
    return _series_plot("Live heap over the soak (pymalloc + malloc)", runs, heap_bytes, "heap")


def soak_rss(runs: Labelled) -> go.Figure | None:
    return _series_plot("RSS over the soak", runs, rss_bytes, "rss")


def soak_tables(runs: Labelled) -> str:
    """The growth table and the soak's facts, per run that soaked."""
    blocks = []
    for label, run in runs:
        soak = run.soak
        if soak is None:
            continue
        rows = growth_rows("heap", soak.heap, soak.heap_reason)
        rows += growth_rows("rss", soak.rss, soak.rss_reason)
        blocks.append(
            f"<h3>{escape(label)}</h3>" + table(GROWTH_HEADERS, rows)
            + table(["figure", "value"], soak_facts(soak))
        )  # fmt: skip
    return section("Growth per message (soak)", "".join(blocks)) if blocks else ""
