"""A sweep's report: the per-point table, each figure's knee in words and figures, a small
text bar chart per figure for the terminal, and the HTML plots (the points, both fitted
segments, the knee marked). Everything is built from a saved SweepResult."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go

from treasure.growth.knee import Knee
from treasure.growth.sweep import (
    PointFigures,
    SweepPoint,
    SweepResult,
    measured_pairs,
    metric_name,
)
from treasure.report._plots import _figure, colour
from treasure.report.rows import Report
from treasure.report.tables import EMPTY, Column, ReportTable
from treasure.report.units import format_bytes, format_ns, format_ratio

CHART_WIDTH = 40  # characters of the longest bar
BAR, KNEE_MARK = "\u2588", "\u25c0 knee"
MIB, MS = 1024.0**2, 1e6

USERS_COLUMNS = (
    "users", "held", "messages", "run peak heap", "peak RSS", "RSS growth", "GC/1k", "p99",
)  # fmt: skip
RATE_COLUMNS = (
    "rate/s", "sent/s", "messages", "errors", "target peak RSS", "RSS/req", "p99 intended", "p99",
)  # fmt: skip
UNIT = {"users": "user", "rate": "msg/s"}  # what a slope is per


def is_time(field: str) -> bool:
    return field.endswith("_ns")


def format_figure(field: str, value: float | None) -> str:
    if value is not None and abs(value) < 0.5:
        value = 0.0  # a fitted slope of -1e-12 is no slope: never "-0 ns"
    return format_ns(value) if is_time(field) else format_bytes(value)


def per_x(sweep: SweepResult, field: str, value: float | None) -> str:
    return EMPTY if value is None else f"{format_figure(field, value)}/{UNIT[sweep.axis]}"


def at_x(sweep: SweepResult, x: float | None) -> str:
    return f"{x or 0:,.0f} {'users' if sweep.axis == 'users' else 'msg/s'}"


def _count(value: float | None) -> str:
    return EMPTY if value is None else f"{value:,.1f}"


def _figures_row(sweep: SweepResult, point: SweepPoint, f: PointFigures) -> tuple[str, ...]:
    if sweep.axis == "rate":
        return (
            _count(f.sent_per_s), f"{f.messages:,}", f"{f.errors:,}",
            format_bytes(f.target_rss_peak_bytes),
            format_bytes(f.target_rss_growth_per_request_bytes),
            format_ns(f.latency_corrected_p99_ns), format_ns(f.latency_p99_ns),
        )  # fmt: skip
    return (
        f"{point.users_held:,}", f"{f.messages:,}", format_bytes(f.peak_heap_bytes),
        format_bytes(f.rss_peak_bytes), format_bytes(f.rss_growth_bytes),
        _count(f.gc_per_1k), format_ns(f.latency_p99_ns),
    )  # fmt: skip


def _point_row(sweep: SweepResult, point: SweepPoint) -> tuple[str, ...]:
    head = f"{point.rate:,}" if sweep.axis == "rate" else f"{point.users:,}"
    if point.figures is None:
        known = (f"{point.users_held:,}",) if sweep.axis == "users" else ()
        return (head, *known, "failed", *[EMPTY] * (len(USERS_COLUMNS) - 2 - len(known)))
    return (head, *_figures_row(sweep, point, point.figures))


def point_label(sweep: SweepResult, point: SweepPoint) -> str:
    return f"{point.rate:,} msg/s" if sweep.axis == "rate" else f"{point.users:,} users"


def points_table(sweep: SweepResult) -> ReportTable:
    notes = [f"{point_label(sweep, p)} failed: {p.error}" for p in sweep.failed]
    notes += [f"{point_label(sweep, p)}: {p.note}" for p in sweep.points if p.note]
    if sweep.axis == "users":
        notes.append(
            "held: users whose state the point's messages built (the knees are fitted over "
            "it); RSS growth: from the first RSS sample (at 1,000 messages) to the end"
        )
        title = f"{sweep.backend} over users ({sweep.config.keep} kept per user)"
    else:
        notes.append("p99 intended: from each message's intended send time (coordinated omission)")
        title = f"{sweep.backend} over rates ({sweep.points[0].frames:,} messages a point)"
    columns = USERS_COLUMNS if sweep.axis == "users" else RATE_COLUMNS
    return ReportTable(
        key="sweep",
        title=title,
        columns=tuple(Column(h, left=i == 0) for i, h in enumerate(columns)),
        rows=tuple(_point_row(sweep, point) for point in sweep.points),
        notes=tuple(notes),
    )


def _knee_row(sweep: SweepResult, knee: Knee) -> tuple[str, ...]:
    name = metric_name(knee.metric)
    test = EMPTY if knee.p_value is None else f"F {knee.f_text}, p {knee.p_value:.2g}"
    if knee.verdict == "knee":
        return (name, f"knee at {at_x(sweep, knee.knee_at)}",
                per_x(sweep, knee.metric, knee.slope_before),
                per_x(sweep, knee.metric, knee.slope_after), test)  # fmt: skip
    slope = knee.line.slope if knee.line is not None else None
    return (name, knee.verdict, per_x(sweep, knee.metric, slope), EMPTY, test)


def knees_table(sweep: SweepResult) -> ReportTable:
    headers = ("figure", "verdict", "slope (before)", "slope after", "test")
    return ReportTable(
        key="knee",
        title=f"Where cost per {UNIT[sweep.axis]} stops being linear",
        columns=tuple(Column(h, left=i < 2) for i, h in enumerate(headers)),
        rows=tuple(_knee_row(sweep, knee) for knee in sweep.knees),
        notes=(f"method: {sweep.method}", *(
            f"{metric_name(knee.metric)}: {knee.reason}" for knee in sweep.knees if knee.reason
        )),
    )  # fmt: skip


def knee_sentence(sweep: SweepResult, knee: Knee) -> str:
    name, unit = metric_name(knee.metric), UNIT[sweep.axis]
    before, after = knee.slope_before, knee.slope_after
    if knee.verdict == "knee" and before is not None and after is not None:
        ratio = after / before if before > 0 and after > 0 else None
        times = f" ({format_ratio(ratio)})" if ratio is not None else ""
        return (
            f"{name} bends at {at_x(sweep, knee.knee_at)}: {format_figure(knee.metric, before)} "
            f"per {unit} before, {format_figure(knee.metric, after)} after{times}"
        )
    if knee.verdict == "linear throughout" and knee.line is not None:
        slope = format_figure(knee.metric, knee.line.slope)
        return f"{name} is linear throughout: {slope} per {unit}"
    return f"{name}: {knee.verdict} ({knee.reason})"


def sweep_report(sweep: SweepResult) -> Report:
    """The sweep's tables as the terminal and HTML renderers draw every report."""
    measured = len(sweep.measured)
    incomplete = "" if sweep.complete else " (interrupted: the points finished so far)"
    return Report(
        title=f"treasure sweep: {sweep.backend} on {sweep.config.recording}{incomplete}",
        headline="; ".join(knee_sentence(sweep, knee) for knee in sweep.knees)
        or f"{measured} of {len(sweep.points)} points measured",
        tables=(points_table(sweep), knees_table(sweep)),
    )


@dataclass(frozen=True)
class Bar:
    label: str  # the point's position: users held, or the rate
    value: float
    length: int  # characters, the longest bar CHART_WIDTH
    knee: bool  # the knee is at this point
    knee_before: float | None = None  # the knee lies between the previous bar and this one


def _knee_of(sweep: SweepResult, field: str) -> Knee | None:
    return next((knee for knee in sweep.knees if knee.metric == field), None)


def bars(sweep: SweepResult, field: str, width: int = CHART_WIDTH) -> list[Bar]:
    """One bar per measured point of `field`, scaled to the largest."""
    knee = _knee_of(sweep, field)
    at = knee.knee_at if knee is not None and knee.verdict == "knee" else None
    values = measured_pairs(sweep, field)
    top = max((value for _, value in values), default=0.0)
    drawn = []
    for index, (x, value) in enumerate(values):
        between = at is not None and index > 0 and values[index - 1][0] < at < x
        drawn.append(
            Bar(
                label=f"{x:,}",
                value=value,
                length=round(value / top * width) if top > 0 else 0,
                knee=at is not None and x == at,
                knee_before=at if between else None,
            )
        )
    return drawn


def chart_lines(sweep: SweepResult, field: str, width: int = CHART_WIDTH) -> list[str]:
    drawn = bars(sweep, field, width)
    if not drawn:
        return []
    label_width = max(len(bar.label) for bar in drawn)
    lines = [f"{metric_name(field)} by {'users held' if sweep.axis == 'users' else 'rate'}"]
    for bar in drawn:
        if bar.knee_before is not None:
            lines.append(f"  {'':>{label_width}} {KNEE_MARK} at {at_x(sweep, bar.knee_before)}")
        mark = f" {KNEE_MARK}" if bar.knee else ""
        filled = (BAR * bar.length).ljust(width)
        figure = format_figure(field, bar.value)
        lines.append(f"  {bar.label:>{label_width}} {filled} {figure}{mark}")
    return lines


def charts(sweep: SweepResult) -> list[str]:
    lines: list[str] = []
    for field, _ in sweep.metrics:
        chart = chart_lines(sweep, field)
        lines += [*([""] if lines and chart else []), *chart]
    return lines


def point_line(sweep: SweepResult, point: SweepPoint) -> str:
    """One point's figures in a line, as a sweep prints it when the point ends."""
    head = point_label(sweep, point)
    f = point.figures
    if f is None:
        return f"{head} failed after {point.seconds:.1f} s: {point.error}"
    if sweep.axis == "rate":
        return (
            f"{head} ({_count(f.sent_per_s)} sent/s, {f.messages:,} messages, {f.errors:,} "
            f"errors): target peak RSS {format_bytes(f.target_rss_peak_bytes)}, p99 from "
            f"intended send {format_ns(f.latency_corrected_p99_ns)} ({point.seconds:.1f} s)"
        )
    return (
        f"{head} ({point.users_held:,} held, {f.messages:,} messages): run peak heap "
        f"{format_bytes(f.peak_heap_bytes)}, peak RSS {format_bytes(f.rss_peak_bytes)}, "
        f"GC {_count(f.gc_per_1k)}/1k, p99 {format_ns(f.latency_p99_ns)} ({point.seconds:.1f} s)"
    )


@dataclass(frozen=True)
class _Axes:
    """How a figure's values are drawn: its scale and the words on its axes."""

    scale: float
    unit: str
    x_title: str


def knee_figure(sweep: SweepResult, field: str) -> go.Figure | None:
    """The points of `field` along the axis, the fit (two segments, or one line), the knee."""
    knee = _knee_of(sweep, field)
    pairs = measured_pairs(sweep, field)
    if not pairs or knee is None:
        return None
    axes = _Axes(
        MS if is_time(field) else MIB, "ms" if is_time(field) else "MiB",
        "users held" if sweep.axis == "users" else "rate (msg/s)",
    )  # fmt: skip
    name = metric_name(field)
    title = f"{name} over {sweep.axis}: {sweep.backend}"
    figure = _figure(title, axes.x_title, f"{name} ({axes.unit})")
    xs = [x for x, _ in pairs]
    figure.add_scatter(
        x=xs, y=[y / axes.scale for _, y in pairs], mode="markers", name="measured",
        marker={"size": 10, "color": colour(0)},
        hovertemplate=f"%{{x:,}}: %{{y:.2f}} {axes.unit}",
    )  # fmt: skip
    _add_fit(figure, sweep, knee, (min(xs), max(xs)), axes)
    return figure


def _add_fit(
    figure: go.Figure, sweep: SweepResult, knee: Knee, span: tuple[float, float], axes: _Axes
) -> None:
    hinge, line = knee.hinge, knee.line
    low, high = span
    if knee.verdict == "knee" and hinge is not None:
        for start, end, slope, dash in ((low, hinge.at, hinge.slope_before, "solid"),
                                        (hinge.at, high, hinge.slope_after, "dash")):  # fmt: skip
            figure.add_scatter(
                x=[start, end], y=[hinge.value(start) / axes.scale, hinge.value(end) / axes.scale],
                mode="lines", line={"color": colour(1), "dash": dash},
                name=escape(f"fit: {per_x(sweep, knee.metric, slope)}"),
            )  # fmt: skip
        figure.add_scatter(
            x=[hinge.at], y=[hinge.value(hinge.at) / axes.scale], mode="markers+text",
            marker={"symbol": "x", "size": 16, "color": colour(2)}, name="knee",
            text=[escape(f"knee at {at_x(sweep, hinge.at)}")], textposition="top left",
        )  # fmt: skip
    elif line is not None:
        figure.add_scatter(
            x=[low, high], y=[line.value(low) / axes.scale, line.value(high) / axes.scale],
            mode="lines", line={"color": colour(1), "dash": "dot"},
            name=escape(f"{knee.verdict}: {per_x(sweep, knee.metric, line.slope)}"),
        )  # fmt: skip


def knee_figures(sweep: SweepResult) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of every knee metric that has points."""
    found = []
    for field, _ in sweep.metrics:
        figure = knee_figure(sweep, field)
        if figure is not None:
            found.append((f"plot-sweep-{field.replace('_', '-')}", figure))
    return found
