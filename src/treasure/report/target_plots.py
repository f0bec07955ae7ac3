"""The report's figures of runs against a live target (`RunResult.target`): the target's
RSS over the run and against the replies answered (with the growth per request drawn as
its least-squares line), its CPU, latency from the intended and the actual send as HDR
percentile curves, and what became of each second's messages.

As in _plots: one function per figure, None when no run holds what it plots, labels
escaped. The values plotted are the result's own, in the units on the axes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

import plotly.graph_objects as go

from treasure.report._plots import _figure, add_percentile_curve, colour, nines_axes
from treasure.results import RunResult, TargetFigures, TargetProcess
from treasure.results.timeline import TIMELINE_COLUMNS, TargetTimeline

Labelled = Sequence[tuple[str, RunResult]]
MIB = 2**20
# what the per-second plot draws of TIMELINE_COLUMNS, and how
PROBLEMS = (("late", "solid"), ("errors", "dot"), ("timed_out", "dash"), ("lost", "dashdot"))


def _processes(runs: Labelled) -> list[tuple[int, str, TargetProcess]]:
    return [
        (index, label, run.target.process)
        for index, (label, run) in enumerate(runs)
        if run.target is not None and run.target.process is not None and run.target.process.samples
    ]


def target_rss_over_time(runs: Labelled) -> go.Figure | None:
    """The target's resident set size while the run went."""
    figure = _figure("Target RSS over the run", "seconds", "RSS (MiB)")
    for index, label, process in _processes(runs):
        figure.add_scatter(
            x=[ms / 1000 for ms, _, _ in process.samples],
            y=[rss / MIB for _, _, rss in process.samples],
            mode="lines",
            name=escape(label),
            line={"color": colour(index)},
            hovertemplate="%{x:.2f} s: %{y:.1f} MiB",
        )
    return figure if figure.data else None


def growth_line(process: TargetProcess) -> tuple[list[int], list[float]]:
    """The growth per request as a line over the replies it was fitted on (the samples
    after the first 10 %), through their mean point as a least-squares line passes."""
    kept = process.samples[len(process.samples) // 10 :]
    if len(kept) < 2:
        return [], []
    mean_x = sum(answered for _, answered, _ in kept) / len(kept)
    mean_y = sum(rss for _, _, rss in kept) / len(kept)
    ends = [kept[0][1], kept[-1][1]]
    slope = process.rss_growth_per_request_bytes
    return ends, [(mean_y + slope * (x - mean_x)) / MIB for x in ends]


def target_rss_growth(runs: Labelled) -> go.Figure | None:
    """RSS against the replies answered, and the fitted growth per request."""
    figure = _figure("Target RSS per request answered", "replies answered", "RSS (MiB)")
    for index, label, process in _processes(runs):
        figure.add_scatter(
            x=[answered for _, answered, _ in process.samples],
            y=[rss / MIB for _, _, rss in process.samples],
            mode="markers",
            name=escape(label),
            marker={"color": colour(index), "size": 4},
            hovertemplate="%{x:,} replies: %{y:.1f} MiB",
        )
        xs, ys = growth_line(process)
        if xs:
            figure.add_scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=escape(f"{label}: {process.rss_growth_per_request_bytes:,.1f} B per request"),
                line={"color": colour(index), "dash": "dash"},
            )
    return figure if figure.data else None


def cpu_busy(timeline: TargetTimeline) -> tuple[list[float], list[float]]:
    """Cores the target kept busy between two samples: (end of each interval in s, cores)."""
    times, cores = [], []
    for (ms0, cpu0), (ms1, cpu1) in itertools.pairwise(timeline.cpu_samples):
        if ms1 > ms0:
            times.append(ms1 / 1000)
            cores.append((cpu1 - cpu0) / ((ms1 - ms0) / 1000))
    return times, cores


def target_cpu(runs: Labelled) -> go.Figure | None:
    """The target's CPU over the run: user + system seconds per second (1 is one core)."""
    figure = _figure("Target CPU over the run", "seconds", "cores busy")
    for index, (label, run) in enumerate(runs):
        timeline = run.target.timeline if run.target is not None else None
        if timeline is None or len(timeline.cpu_samples) < 2:
            continue
        times, cores = cpu_busy(timeline)
        figure.add_scatter(
            x=times,
            y=cores,
            mode="lines",
            line={"shape": "vh", "color": colour(index)},
            name=escape(label),
            hovertemplate="%{x:.2f} s: %{y:.2f} cores",
        )
    return figure if figure.data else None


def _targets(runs: Labelled) -> list[tuple[int, str, TargetFigures]]:
    return [
        (index, label, run.target)
        for index, (label, run) in enumerate(runs)
        if run.target is not None
    ]


def target_latency(runs: Labelled) -> go.Figure | None:
    """Latency by percentile from the intended send time (dashed, as the corrected curve of
    the latency plot) and from the actual send (solid): the gap is what late sends add."""
    figure = _figure("Target latency by percentile", "percentile", "latency (µs)")
    for index, label, target in _targets(runs):
        curves = (("intended", target.corrected_curve, "dash"),
                  ("actual", target.uncorrected_curve, "solid"))  # fmt: skip
        for origin, curve, dash in curves:
            if curve:
                name = f"{label}, from the {origin} send"
                add_percentile_curve(figure, curve, name, colour(index), dash)
    return nines_axes(figure)


def column(timeline: TargetTimeline, name: str) -> list[int]:
    at = TIMELINE_COLUMNS.index(name)
    return [row[at] for row in timeline.bins]


def target_per_second(runs: Labelled) -> go.Figure | None:
    """Of each second's messages (by intended send time): how many were sent late, answered
    with an error, timed out or lost."""
    figure = _figure("Target: late sends, errors, timeouts per second", "second", "messages")
    for index, label, target in _targets(runs):
        timeline = target.timeline
        if timeline is None or not timeline.bins:
            continue
        seconds = [at * timeline.bin_ns / 1e9 for at in range(len(timeline.bins))]
        for name, dash in PROBLEMS:
            figure.add_scatter(
                x=seconds,
                y=column(timeline, name),
                mode="lines+markers",
                name=escape(f"{label}: {name.replace('_', ' ')}"),
                line={"color": colour(index), "dash": dash},
                hovertemplate=f"second %{{x:g}}: %{{y:,}} {name.replace('_', ' ')}",
            )
    if not figure.data:
        return None
    figure.update_xaxes(rangemode="tozero")
    figure.update_yaxes(rangemode="tozero")
    return figure


FIGURES = (target_rss_over_time, target_rss_growth, target_cpu, target_latency, target_per_second)
