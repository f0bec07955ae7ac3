"""Baseline files: results stripped to what the gate reads, small enough to commit."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from treasure.results import CompareResult, Result, RunResult, runs_of


def strip_run(run: RunResult) -> RunResult:
    """Drop timelines, curves, histograms, samples and artefact paths; keep the summaries and
    the latency block medians the regression check bootstraps over."""
    latency = run.latency and msgspec.structs.replace(
        run.latency, percentile_curve=[], corrected_curve=[], histogram=[], hdr="",
        corrected_hdr="",
    )  # fmt: skip
    gc = run.gc and msgspec.structs.replace(run.gc, pauses_ns=[])
    rss = run.rss and msgspec.structs.replace(run.rss, samples=[])
    heap = run.heap and msgspec.structs.replace(run.heap, timeline=[], artefacts={})
    cpu = run.cpu and msgspec.structs.replace(run.cpu, artefacts={})
    return msgspec.structs.replace(
        run, latency=latency, gc=gc, rss=rss, heap=heap, cpu=cpu, artefacts={}, error_samples=[]
    )


def strip(result: Result) -> Result:
    if isinstance(result, CompareResult):
        return msgspec.structs.replace(result, runs=[strip_run(run) for run in result.runs])
    return strip_run(result)


def merge(previous: Result, update: Result) -> Result:
    """The previous baseline with every backend `update` ran replaced by its new run; a
    backend only the previous baseline holds is kept, so one backend can be re-baselined."""
    fresh = [strip_run(run) for run in runs_of(update)]
    replaced = {run.backend for run in fresh}
    runs = [run for run in runs_of(previous) if run.backend not in replaced] + fresh
    if len(runs) == 1:
        return runs[0]
    recording = update.recording
    baseline = update.baseline if isinstance(update, CompareResult) else runs[0].backend
    return CompareResult(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        recording=recording,
        baseline=baseline,
        runs=runs,
        complete=all(r.complete for r in (previous, update) if isinstance(r, CompareResult)),
    )
