"""A sweep's report: the per-point table, each figure's knee in words and figures, a small
text bar chart per figure for the terminal, and the HTML plots (the points, both fitted
segments, the knee marked). Everything is built from a saved SweepResult."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go

from treasure.growth.knee import Knee
from treasure.growth.sweep import KNEE_METRICS, SweepPoint, SweepResult, metric_name
from treasure.report._plots import _figure, colour
from treasure.report.rows import Report
from treasure.report.tables import EMPTY, Column, ReportTable
from treasure.report.units import format_bytes, format_ns, format_ratio

CHART_WIDTH = 40  # characters of the longest bar
BAR, KNEE_MARK = "\u2588", "\u25c0 knee"
MIB = 1024.0**2

_POINT_COLUMNS = (
    "users", "held", "messages", "run peak heap", "peak RSS", "RSS/msg", "GC/1k", "p99",
)  # fmt: skip


def per_user(value: float | None) -> str:
    return EMPTY if value is None else f"{format_bytes(value)}/user"


def _gc(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.1f}"


def _point_row(point: SweepPoint) -> tuple[str, ...]:
    head = (f"{point.users:,}", f"{point.users_held:,}")
    figures = point.figures
    if figures is None:
        return (*head, "failed", *[EMPTY] * (len(_POINT_COLUMNS) - 3))
    return (
        *head,
        f"{figures.messages:,}",
        format_bytes(figures.peak_heap_bytes),
        format_bytes(figures.rss_peak_bytes),
        format_bytes(figures.rss_growth_per_message_bytes),
        _gc(figures.gc_per_1k),
        format_ns(figures.latency_p99_ns),
    )


def points_table(sweep: SweepResult) -> ReportTable:
    notes = [f"{point.users:,} users failed: {point.error}" for point in sweep.failed]
    notes += [f"{point.users:,} users: {point.note}" for point in sweep.points if point.note]
    notes.append(
        "held: users whose state the point's messages built (the knees are fitted over it); "
        "RSS/msg: the backend's RSS growth per message (the harness's own taken out)"
    )
    return ReportTable(
        key="sweep",
        title=f"{sweep.backend} over users ({sweep.config.keep} kept per user)",
        columns=tuple(Column(h, left=i == 0) for i, h in enumerate(_POINT_COLUMNS)),
        rows=tuple(_point_row(point) for point in sweep.points),
        notes=tuple(notes),
    )


def _knee_row(knee: Knee) -> tuple[str, ...]:
    name = metric_name(knee.metric)
    test = EMPTY if knee.p_value is None else f"F {knee.f_text}, p {knee.p_value:.2g}"
    if knee.verdict == "knee":
        return (name, f"knee at {knee.knee_at:,.0f} users", per_user(knee.slope_before),
                per_user(knee.slope_after), test)  # fmt: skip
    slope = knee.line.slope if knee.line is not None else None
    return (name, knee.verdict, per_user(slope), EMPTY, test)


def knees_table(sweep: SweepResult) -> ReportTable:
    headers = ("figure", "verdict", "slope (before)", "slope after", "test")
    return ReportTable(
        key="knee",
        title="Where cost per user stops being linear",
        columns=tuple(Column(h, left=i < 2) for i, h in enumerate(headers)),
        rows=tuple(_knee_row(knee) for knee in sweep.knees),
        notes=(f"method: {sweep.method}", *(
            f"{metric_name(knee.metric)}: {knee.reason}" for knee in sweep.knees if knee.reason
        )),
    )  # fmt: skip


def knee_sentence(knee: Knee) -> str:
    name = metric_name(knee.metric)
    if knee.verdict == "knee" and knee.slope_before is not None and knee.slope_after is not None:
        ratio = knee.slope_after / knee.slope_before if knee.slope_before > 0 else None
        times = f" ({format_ratio(ratio)})" if ratio is not None and ratio > 0 else ""
        return (
            f"{name} bends at {knee.knee_at:,.0f} users: {format_bytes(knee.slope_before)} per "
            f"user before, {format_bytes(knee.slope_after)} after{times}"
        )
    if knee.verdict == "linear throughout" and knee.line is not None:
        return f"{name} is linear throughout: {format_bytes(knee.line.slope)} per user"
    return f"{name}: {knee.verdict} ({knee.reason})"


def sweep_report(sweep: SweepResult) -> Report:
    """The sweep's tables as the terminal and HTML renderers draw every report."""
    measured = len(sweep.measured)
    incomplete = "" if sweep.complete else " (interrupted: the points finished so far)"
    return Report(
        title=f"treasure sweep: {sweep.backend} on {sweep.config.recording}{incomplete}",
        headline="; ".join(knee_sentence(knee) for knee in sweep.knees)
        or f"{measured} of {len(sweep.points)} points measured",
        tables=(points_table(sweep), knees_table(sweep)),
    )


@dataclass(frozen=True)
class Bar:
    label: str  # the point's users held
    value: float
    length: int  # characters, the longest bar CHART_WIDTH
    knee: bool  # the knee is at this point
    knee_before: float | None = None  # the knee lies between the previous bar and this one


def bars(sweep: SweepResult, field: str, width: int = CHART_WIDTH) -> list[Bar]:
    """One bar per measured point of `field`, scaled to the largest."""
    knee = next((k for k in sweep.knees if k.metric == field and k.verdict == "knee"), None)
    at = knee.knee_at if knee is not None else None
    values = [
        (point.users_held, float(value))
        for point in sweep.points
        if point.figures is not None and (value := getattr(point.figures, field)) is not None
    ]
    top = max((value for _, value in values), default=0.0)
    drawn = []
    for index, (users, value) in enumerate(values):
        previous = values[index - 1][0] if index else None
        between = at is not None and previous is not None and previous < at < users
        drawn.append(
            Bar(
                label=f"{users:,}",
                value=value,
                length=round(value / top * width) if top > 0 else 0,
                knee=at is not None and users == at,
                knee_before=at if between else None,
            )
        )
    return drawn


def chart_lines(sweep: SweepResult, field: str, width: int = CHART_WIDTH) -> list[str]:
    drawn = bars(sweep, field, width)
    if not drawn:
        return []
    label_width = max(len(bar.label) for bar in drawn)
    lines = [f"{metric_name(field)} by users held"]
    for bar in drawn:
        if bar.knee_before is not None:
            lines.append(f"  {'':>{label_width}} {KNEE_MARK} at {bar.knee_before:,.0f} users")
        mark = f" {KNEE_MARK}" if bar.knee else ""
        filled = (BAR * bar.length).ljust(width)
        lines.append(f"  {bar.label:>{label_width}} {filled} {format_bytes(bar.value)}{mark}")
    return lines


def charts(sweep: SweepResult) -> list[str]:
    lines: list[str] = []
    for field, _ in KNEE_METRICS:
        chart = chart_lines(sweep, field)
        lines += [*([""] if lines and chart else []), *chart]
    return lines


def point_line(point: SweepPoint) -> str:
    """One point's figures in a line, as a sweep prints it when the point ends."""
    head = f"{point.users:,} users"
    if point.figures is None:
        return f"{head} failed after {point.seconds:.1f} s: {point.error}"
    f = point.figures
    return (
        f"{head} ({point.users_held:,} held, {f.messages:,} messages): run peak heap "
        f"{format_bytes(f.peak_heap_bytes)}, peak RSS {format_bytes(f.rss_peak_bytes)}, "
        f"GC {_gc(f.gc_per_1k)}/1k, p99 {format_ns(f.latency_p99_ns)} ({point.seconds:.1f} s)"
    )


def knee_figure(sweep: SweepResult, field: str) -> go.Figure | None:
    """The points of `field` over users held, the fit (two segments, or one line) and the knee."""
    knee = next((k for k in sweep.knees if k.metric == field), None)
    pairs = [
        (point.users_held, value / MIB)
        for point in sweep.points
        if point.figures is not None and (value := getattr(point.figures, field)) is not None
    ]
    if not pairs or knee is None:
        return None
    name = metric_name(field)
    figure = _figure(f"{name} over users: {sweep.backend}", "users held", f"{name} (MiB)")
    xs = [x for x, _ in pairs]
    figure.add_scatter(
        x=xs, y=[y for _, y in pairs], mode="markers", name="measured",
        marker={"size": 10, "color": colour(0)}, hovertemplate="%{x:,} users: %{y:.2f} MiB",
    )  # fmt: skip
    _add_fit(figure, knee, min(xs), max(xs))
    return figure


def _add_fit(figure: go.Figure, knee: Knee, low: float, high: float) -> None:
    hinge, line = knee.hinge, knee.line
    if knee.verdict == "knee" and hinge is not None:
        for start, end, slope, dash in ((low, hinge.at, hinge.slope_before, "solid"),
                                        (hinge.at, high, hinge.slope_after, "dash")):  # fmt: skip
            figure.add_scatter(
                x=[start, end], y=[hinge.value(start) / MIB, hinge.value(end) / MIB],
                mode="lines", line={"color": colour(1), "dash": dash},
                name=escape(f"fit: {format_bytes(slope)}/user"),
            )  # fmt: skip
        figure.add_scatter(
            x=[hinge.at], y=[hinge.value(hinge.at) / MIB], mode="markers+text",
            marker={"symbol": "x", "size": 16, "color": colour(2)}, name="knee",
            text=[escape(f"knee at {hinge.at:,.0f} users")], textposition="top left",
        )  # fmt: skip
    elif line is not None:
        figure.add_scatter(
            x=[low, high], y=[line.value(low) / MIB, line.value(high) / MIB], mode="lines",
            line={"color": colour(1), "dash": "dot"},
            name=escape(f"{knee.verdict}: {format_bytes(line.slope)}/user"),
        )  # fmt: skip


def knee_figures(sweep: SweepResult) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of every knee metric that has points."""
    found = []
    for field, _ in KNEE_METRICS:
        figure = knee_figure(sweep, field)
        if figure is not None:
            found.append((f"plot-sweep-{field.replace('_', '-')}", figure))
    return found
