"""The report's plotly figures, one function per figure, each built from saved results.

Every function returns None when no run holds the figures it plots. Labels that come
from results are HTML-escaped before plotly sees them: plotly reads text as pseudo-HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import plotly.graph_objects as go
from plotly.colors import qualitative

from treasure.results import Distribution, RunResult

HEIGHT = 420
MAX_NINES = 5.0  # the 100th percentile is drawn at 99.999 %
NINES_TICKS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
NINES_LABELS = ("0 %", "90 %", "99 %", "99.9 %", "99.99 %", "max")


def colour(index: int) -> str:
    palette = qualitative.Plotly
    return str(palette[index % len(palette)])


def _figure(title: str, x_title: str, y_title: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title={"text": escape(title), "x": 0.01, "xanchor": "left"},
        height=HEIGHT,
        margin={"l": 70, "r": 20, "t": 50, "b": 55},
        template="none",  # the named templates cost ~0.25 s of deep copies per figure
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#333"},
        legend={"orientation": "h", "y": -0.2},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    figure.update_xaxes(gridcolor="#e8e8e8", linecolor="#999", zeroline=False, automargin=True)
    figure.update_yaxes(gridcolor="#e8e8e8", linecolor="#999", zeroline=False, automargin=True)
    return figure


def _nines(percentile: float) -> float:
    if percentile >= 100.0:
        return MAX_NINES
    return min(MAX_NINES, -math.log10(1.0 - percentile / 100.0))


def add_percentile_curve(
    figure: go.Figure, curve: Sequence[tuple[float, int]], name: str, line_colour: str, dash: str
) -> None:
    """One HDR-style curve: (percentile, nanoseconds) points on the nines axis, in µs."""
    figure.add_scatter(
        x=[_nines(p) for p, _ in curve],
        y=[value / 1000 for _, value in curve],
        customdata=[p for p, _ in curve],
        hovertemplate="p%{customdata}: %{y:.1f} µs",
        mode="lines+markers",
        name=escape(name),
        line={"color": line_colour, "dash": dash},
    )


def nines_axes(figure: go.Figure) -> go.Figure | None:
    """A percentile figure's axes (nines across, log latency up); None when it is empty."""
    if not figure.data:
        return None
    figure.update_xaxes(tickvals=NINES_TICKS, ticktext=NINES_LABELS)
    figure.update_yaxes(type="log", dtick=1)
    return figure


def latency_percentiles(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """HDR-style percentile curves; corrected (from intended send time) dashed beside."""
    figure = _figure("Latency by percentile", "percentile", "latency (µs)")
    for index, (label, run) in enumerate(runs):
        latency = run.latency
        if latency is None:
            continue
        curves = [("", latency.percentile_curve, "solid")]
        if latency.corrected_curve:
            curves.append((" (corrected)", latency.corrected_curve, "dash"))
        for suffix, curve, dash in curves:
            add_percentile_curve(figure, curve, label + suffix, colour(index), dash)
    return nines_axes(figure)


def latency_histogram(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """Messages per latency bucket (log-spaced buckets, upper bounds on the x axis)."""
    figure = _figure("Latency histogram (uncorrected)", "latency (µs, log)", "messages")
    for index, (label, run) in enumerate(runs):
        if run.latency is None or not run.latency.histogram:
            continue
        buckets = run.latency.histogram
        figure.add_scatter(
            x=[bound / 1000 for bound, _ in buckets],
            y=[count for _, count in buckets],
            mode="lines",
            line={"shape": "vh", "color": colour(index)},
            fill="tozeroy",
            opacity=0.6,
            name=escape(label),
            hovertemplate="≤ %{x:.1f} µs: %{y} messages",
        )
    if not figure.data:
        return None
    figure.update_xaxes(type="log", dtick=1)
    return figure


def _bars(dist: Distribution) -> tuple[list[str], list[float]]:
    return ["p50", "p90", "p99", "p99.9", "max"], [
        dist.p50,
        dist.p90,
        dist.p99,
        dist.p999,
        dist.max,
    ]


def heap_per_message(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """Peak heap per message (native included), by percentile, one group per backend."""
    # log scale: a DOM backend's 100 KiB and a Rust backend's 1.5 KiB both stay readable
    figure = _figure("Heap per message: peak live bytes", "percentile", "bytes (log)")
    for index, (label, run) in enumerate(runs):
        heap = run.heap
        if heap is None or not heap.measurable or heap.peak_bytes is None:
            continue
        names, values = _bars(heap.peak_bytes)
        figure.add_bar(
            x=names,
            y=values,
            name=escape(label),
            marker_color=colour(index),
            hovertemplate="%{x}: %{y:,.0f} B",
        )
    if not figure.data:
        return None
    figure.update_layout(barmode="group")
    # the axis starts at half the smallest bar, so the smallest backend's bars stand tall
    # enough to read instead of being stubs on the axis
    heights = [value for bar in figure.data for value in bar.y if value > 0]
    figure.update_yaxes(type="log", dtick=1, tickformat=".1s")
    if heights:
        low, high = math.log10(min(heights) / 2), math.log10(max(heights) * 1.5)
        figure.update_yaxes(range=[low, high])
    return figure


def rss_over_time(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """Resident set size of the timing pass's process, by message index."""
    figure = _figure("RSS over the replay (timing pass)", "message", "RSS (MiB)")
    for index, (label, run) in enumerate(runs):
        if run.rss is None or not run.rss.samples:
            continue
        figure.add_scatter(
            x=[message for message, _ in run.rss.samples],
            y=[value / 2**20 for _, value in run.rss.samples],
            mode="lines",
            name=escape(label),
            line={"color": colour(index)},
            hovertemplate="message %{x}: %{y:.1f} MiB",
        )
    return figure if figure.data else None


def heap_over_time(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """Live heap bytes over the messages the heap pass traced, by message index."""
    figure = _figure("Live heap over the traced messages (heap pass)", "message", "KiB (log)")
    for index, (label, run) in enumerate(runs):
        if run.heap is None or not run.heap.timeline:
            continue
        figure.add_scatter(
            x=[message for message, _ in run.heap.timeline],
            y=[value / 1024 for _, value in run.heap.timeline],
            mode="lines",
            name=escape(label),
            line={"color": colour(index)},
            hovertemplate="message %{x}: %{y:,.1f} KiB",
        )
    if not figure.data:
        return None
    figure.update_yaxes(type="log", dtick=1)
    return figure


def gc_pauses(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """The slowest GC pauses each run kept, as points over a box."""
    figure = _figure("GC pauses (slowest kept)", "backend", "pause (µs, log)")
    for index, (label, run) in enumerate(runs):
        if run.gc is None or not run.gc.pauses_ns:
            continue
        figure.add_box(
            y=[pause / 1000 for pause in run.gc.pauses_ns],
            name=escape(label),
            boxpoints="all",
            jitter=0.4,
            marker_color=colour(index),
            hovertemplate="%{y:.1f} µs",
        )
    if not figure.data:
        return None
    figure.update_yaxes(type="log", dtick=1)
    figure.update_layout(showlegend=False)
    return figure


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95 % interval of a share estimated from `trials` samples (Wilson score)."""
    if trials == 0:
        return 0.0, 0.0
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def cpu_share(runs: Sequence[tuple[str, RunResult]]) -> go.Figure | None:
    """The share of the replay loop's CPU samples inside the backend, with its 95 % CI."""
    figure = _figure("CPU samples inside the backend", "backend", "share of loop samples (%)")
    labels, shares, above, below, colours = [], [], [], [], []
    for index, (label, run) in enumerate(runs):
        cpu = run.cpu
        if cpu is None or not cpu.profiled:
            continue
        low, high = wilson(cpu.backend_samples, cpu.loop_samples)
        labels.append(escape(label))
        shares.append(100 * cpu.backend_share)
        above.append(100 * max(0.0, high - cpu.backend_share))
        below.append(100 * max(0.0, cpu.backend_share - low))
        colours.append(colour(index))
    if not labels:
        return None
    figure.add_bar(
        x=labels,
        y=shares,
        marker_color=colours,
        error_y={"type": "data", "symmetric": False, "array": above, "arrayminus": below},
        hovertemplate="%{x}: %{y:.1f} % of loop samples",
    )
    figure.update_yaxes(range=[0, 100])
    return figure
