"""Outcomes of a send -> TargetFigures: counts, and HDR histograms built after the run."""

from __future__ import annotations

from array import array

from hdrh.histogram import HdrHistogram

from treasure.probes.latency import distribution_of, encode_histogram, histogram_of
from treasure.probes.latency import percentile_curve as curve
from treasure.results import TargetFigures
from treasure.results.timeline import TIMELINE_COLUMNS, TargetTimeline
from treasure.targets.sender import Outcomes

BIN_NS = 1_000_000_000


def fill_latency(
    figures: TargetFigures,
    corrected: HdrHistogram,
    uncorrected: HdrHistogram,
    schedule_error: HdrHistogram,
) -> None:
    if corrected.get_total_count():
        figures.latency_corrected = distribution_of(corrected)
        figures.corrected_curve = curve(corrected)
        figures.corrected_hdr = encode_histogram(corrected)
    if uncorrected.get_total_count():
        figures.latency_uncorrected = distribution_of(uncorrected)
        figures.uncorrected_curve = curve(uncorrected)
        figures.hdr = encode_histogram(uncorrected)
    if schedule_error.get_total_count():
        figures.schedule_error = distribution_of(schedule_error)


def summarize_outcomes(figures: TargetFigures, outcomes: Outcomes) -> TargetFigures:
    """Fill `figures` (target, sender, pace already set) from one send's outcomes."""
    start, offsets = outcomes.start_ns, outcomes.offsets
    corrected: array[int] = array("q")
    uncorrected: array[int] = array("q")
    lateness: array[int] = array("q")
    last_event = start
    for index, sent_ns in enumerate(outcomes.actual):
        if not sent_ns:
            continue
        late = sent_ns - (start + offsets[index])
        lateness.append(max(0, late))
        reply_ns = outcomes.done[index]
        last_event = max(last_event, sent_ns, reply_ns)
        if reply_ns:
            corrected.append(reply_ns - (start + offsets[index]))
            uncorrected.append(reply_ns - sent_ns)
    figures.sent = len(lateness)
    figures.unsent = figures.scheduled - figures.sent
    figures.late_sends = sum(1 for late in lateness if late > figures.late_threshold_ns)
    figures.errors = {
        category: count for category, count in sorted(outcomes.categories.items()) if category
    }
    figures.routed = outcomes.categories.get("", 0)
    figures.answered = outcomes.answered()
    figures.timeouts, figures.lost = outcomes.timeouts, outcomes.lost
    figures.refused_connections = outcomes.refused
    figures.duration_ns = max(0, last_event - start)
    figures.sent_per_s = figures.sent / (figures.duration_ns / 1e9) if figures.duration_ns else 0.0
    if figures.pace == "max":  # closed loop: no intended send times to measure from
        corrected, lateness = array("q"), array("q")
        figures.late_sends = 0
    fill_latency(
        figures, histogram_of(corrected), histogram_of(uncorrected), histogram_of(lateness)
    )
    if figures.pace != "max":
        figures.timeline = timeline_of(outcomes, figures.late_threshold_ns)
    if outcomes.failures and not figures.failure:
        figures.failure = "; ".join(outcomes.failures[:3])
    return figures


def timeline_of(outcomes: Outcomes, late_threshold_ns: int) -> TargetTimeline:
    """Each sent message in the bin of its intended send time: sent, late, and what became
    of it (the Python senders' part; the native sender counts its own)."""
    offsets, start = outcomes.offsets, outcomes.start_ns
    bins = [[0] * len(TIMELINE_COLUMNS) for _ in range(offsets[-1] // BIN_NS + 1 if offsets else 0)]
    for index, sent_ns in enumerate(outcomes.actual):
        if not sent_ns:
            continue
        row = bins[offsets[index] // BIN_NS]
        row[0] += 1
        row[1] += sent_ns - (start + offsets[index]) > late_threshold_ns
        if outcomes.outcome[index]:
            row[1 + outcomes.outcome[index]] += 1  # ROUTED..LOST follow "late"
    return TargetTimeline(bin_ns=BIN_NS, bins=[_row(row) for row in bins])


def _row(values: list[int]) -> tuple[int, int, int, int, int, int]:
    sent, late, routed, errors, timed_out, lost = values
    return sent, late, routed, errors, timed_out, lost
