"""A sweep's result: one run per point (a number of users), its figures, and per figure the
knee where its cost per user stops being linear (`treasure.growth.knee`).

A sweep file is its own kind of result (`kind: sweep`) beside replay's and compare's; each
point keeps the whole RunResult it measured, its configuration included, so any point can
be run again with `treasure replay --rerun`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from treasure.errors import ResultError
from treasure.files import write_bytes
from treasure.growth.knee import METHOD, Knee, find_knee
from treasure.results import SCHEMA_VERSION, ReplayConfig, Result, RunResult, load

SWEEP_KIND = "sweep"

Axis = Literal["users", "rate"]
# The figures a knee is looked for in, per axis, with their words. A field ending in `_ns`
# is a time, any other a size in bytes.
KNEE_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("peak_heap_bytes", "run peak heap"), ("rss_peak_bytes", "peak RSS")),
    "rate": (
        ("target_rss_peak_bytes", "target peak RSS"),
        ("latency_corrected_p99_ns", "p99 from intended send"),
    ),
}
METRIC_NAMES = {field: name for metrics in KNEE_METRICS.values() for field, name in metrics}


class PointFigures(msgspec.Struct, kw_only=True):
    """What one point measured; None where the run did not measure it (with the reason in
    the point's run)."""

    messages: int  # measured messages (after warm-up)
    errors: int
    peak_heap_bytes: int | None  # the heap pass's run peak with the users' state held
    rss_peak_bytes: int | None  # the timing pass's VmHWM
    rss_growth_bytes: int | None  # last less first RSS sample of the timing pass (one each 1k)
    rss_growth_per_message_bytes: float | None  # the backend's, the harness's own taken out
    gc_per_1k: float | None  # collections per 1,000 measured messages
    gc_pause_max_ns: int | None
    latency_p99_ns: float | None
    # against a live target (a rate sweep): its process's figures, what was sent, and the
    # latency from each message's intended send time
    target_rss_peak_bytes: int | None = None
    target_rss_growth_per_request_bytes: float | None = None
    sent_per_s: float | None = None
    latency_corrected_p99_ns: float | None = None


class SweepPoint(msgspec.Struct, kw_only=True):
    users: int  # as asked for (a rate sweep: the session model's, 0 for every user)
    # users whose state the point's messages built: fewer than asked when the recording
    # (or --limit) holds fewer distinct users; the knees are fitted over this
    users_held: int
    frames: int  # frames replayed, warm-up included: up to the last new user's first one
    note: str = ""  # why users_held < users, when it is
    rate: int = 0  # messages per second sent to the target (a rate sweep)
    config: ReplayConfig
    figures: PointFigures | None = None
    run: RunResult | None = None
    error: str = ""  # why the point failed (then figures and run are None)
    seconds: float = 0.0


class SweepResult(msgspec.Struct, kw_only=True, tag_field="kind", tag=SWEEP_KIND):
    schema_version: int = SCHEMA_VERSION
    created_at: str
    backend: str
    axis: Axis = "users"
    config: ReplayConfig  # the options every point ran with (users or pace: each point's own)
    recording_frames: int = 0
    recording_users: int = 0  # distinct users in the recording
    points: list[SweepPoint] = []
    knees: list[Knee] = []
    method: str = METHOD
    complete: bool = False  # every point was run; False in the copies saved along the way

    @property
    def measured(self) -> list[SweepPoint]:
        return [point for point in self.points if point.figures is not None]

    @property
    def failed(self) -> list[SweepPoint]:
        return [point for point in self.points if point.error]

    @property
    def metrics(self) -> tuple[tuple[str, str], ...]:
        return KNEE_METRICS[self.axis]

    def position(self, point: SweepPoint) -> int:
        """Where a point sits on the axis: the users it held, or the rate it was sent at."""
        return point.rate if self.axis == "rate" else point.users_held


def figures_of(run: RunResult) -> PointFigures:
    rss, gc, heap = run.rss, run.gc, run.heap
    figures = PointFigures(
        messages=run.messages,
        errors=run.error_count,
        peak_heap_bytes=heap.peak_heap_at_users_bytes if heap and heap.measurable else None,
        rss_peak_bytes=rss.peak_bytes if rss else None,
        rss_growth_bytes=rss.end_bytes - rss.start_bytes if rss and len(rss.samples) > 1 else None,
        rss_growth_per_message_bytes=rss.growth_per_message_bytes if rss else None,
        gc_per_1k=gc.collections_per_1k if gc else None,
        gc_pause_max_ns=gc.pause_max_ns if gc else None,
        latency_p99_ns=run.latency.uncorrected.p99 if run.latency else None,
    )
    target = run.target
    if target is not None:
        process, corrected = target.process, target.latency_corrected
        figures.sent_per_s = target.sent_per_s
        figures.latency_corrected_p99_ns = corrected.p99 if corrected else None
        if process is not None:
            figures.target_rss_peak_bytes = process.rss_peak_bytes
            figures.target_rss_growth_per_request_bytes = process.rss_growth_per_request_bytes
    return figures


def measured_pairs(sweep: SweepResult, field: str) -> list[tuple[int, float]]:
    """(position, value) of every point that measured `field`, in the sweep's order."""
    return [
        (sweep.position(point), float(value))
        for point in sweep.points
        if point.figures is not None and (value := getattr(point.figures, field)) is not None
    ]


def knees_of(sweep: SweepResult) -> list[Knee]:
    """Per knee metric of the sweep's axis, its knee over the points that measured it."""
    knees = []
    for field, _ in sweep.metrics:
        pairs = measured_pairs(sweep, field)
        knees.append(find_knee([x for x, _ in pairs], [y for _, y in pairs], field))
    return knees


def metric_name(field: str) -> str:
    return METRIC_NAMES.get(field, field)


def save(result: SweepResult, path: Path) -> None:
    write_bytes(path, msgspec.json.format(msgspec.json.encode(result), indent=2))


def to_json(result: SweepResult) -> str:
    return msgspec.json.format(msgspec.json.encode(result), indent=2).decode()


class _Kind(msgspec.Struct):
    kind: str = ""
    schema_version: int | None = None


def load_any(path: Path) -> Result | SweepResult:
    """A replay, compare or sweep result file, told apart by its `kind`."""
    try:
        data = path.read_bytes()
        header = msgspec.json.decode(data, type=_Kind)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return load(path)  # its errors say what is wrong, in the words every command uses
    if header.kind != SWEEP_KIND:
        return load(path)
    if header.schema_version != SCHEMA_VERSION:
        raise ResultError(
            f"{path}: result schema version {header.schema_version!r}, "
            f"this treasure reads {SCHEMA_VERSION}"
        )
    try:
        return msgspec.json.decode(data, type=SweepResult)
    except msgspec.ValidationError as exc:
        raise ResultError(f"{path}: invalid sweep result: {exc}") from exc
