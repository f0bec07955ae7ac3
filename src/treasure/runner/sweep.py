"""A sweep over users: one replay per point, each pass in its own fresh process, with the
session model keeping that many users' state; then the knee of each figure. (Or over rates:
the same messages sent to a live target at each rate, `--pace rate:N/s`.)

A point of N users replays the recording from its start up to the first message of its
N-th distinct user (warm-up included), with `--users N`: the router then holds exactly N
users' state, whatever it keeps per user (the session model's `--keep`, or a backend's
own caches), and no user is evicted. A recording with fewer users than asked (or a
`--limit` reached first) holds fewer: the point says so and is fitted at the users it held.
A point that fails is recorded with its error and the sweep goes on.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from treasure.errors import ConfigError, TreasureError
from treasure.growth.sweep import Axis, SweepPoint, SweepResult, figures_of, knees_of
from treasure.passes.launch import PassProgress
from treasure.passes.timing import now_iso
from treasure.recordings import open_recording
from treasure.results import ReplayConfig
from treasure.runner.replay import check_inputs, run_replay

DEFAULT_SWEEP_HEAP_MESSAGES = 200  # traced per point: the run peak needs the whole run tracked


@dataclass(frozen=True)
class UsersSeen:
    """Where each distinct user of a recording first appears (frame positions, ascending)."""

    first_frames: list[int]
    frames: int

    @property
    def users(self) -> int:
        return len(self.first_frames)

    def within(self, frames: int) -> int:
        """Distinct users among the first `frames` frames."""
        return bisect_left(self.first_frames, frames)


def users_seen(recording: Path) -> UsersSeen:
    first: list[int] = []
    seen: set[str] = set()
    frames = 0
    with open_recording(recording, on_corrupt="skip") as reader:
        for frames, frame in enumerate(reader, start=1):
            if frame.user_id not in seen:
                seen.add(frame.user_id)
                first.append(frames - 1)
    return UsersSeen(first, frames)


@dataclass(frozen=True)
class PointPlan:
    users: int
    users_held: int
    frames: int  # warm-up included
    limit: int  # measured messages
    note: str = ""
    rate: int = 0  # messages per second to the target (a rate sweep)
    warmup: int | None = None  # the point's own warm-up, when shorter than the sweep's

    @property
    def label(self) -> str:
        return f"{self.rate:,} msg/s" if self.rate else f"{self.users:,} users"


def plan_point(users: int, seen: UsersSeen, warmup: int, limit: int | None) -> PointPlan:
    """The messages a point of `users` users replays, and the users they reach. A warm-up
    longer than the point's messages is cut short: it would reach more users than asked."""
    wanted = seen.first_frames[users - 1] + 1 if users <= seen.users else seen.frames
    shortened = min(warmup, wanted - 1)
    measured = wanted - shortened
    limited = limit is not None and measured > limit
    measured = min(measured, limit) if limit is not None else measured
    frames = min(seen.frames, shortened + measured)
    held = min(users, seen.within(frames))
    note = ""
    if held < users and limited:
        note = f"--limit {limit:,} stops the point at {held:,} users"
    elif held < users:
        note = f"the recording holds only {seen.users:,} distinct users in {seen.frames:,} messages"
    elif shortened < warmup:
        note = f"warm-up cut to {shortened:,} of {warmup:,} messages, which reach more users"
    own = shortened if shortened < warmup else None
    return PointPlan(users, held, frames, measured, note, warmup=own)


def plan_rate(rate: int, seen: UsersSeen, template: ReplayConfig) -> PointPlan:
    """A rate sweep's point: the same messages at every rate, at `rate` a second."""
    measured = max(1, seen.frames - template.warmup)
    if template.limit is not None:
        measured = min(measured, template.limit)
    frames = min(seen.frames, template.warmup + measured)
    held = seen.within(frames)
    held = min(held, template.users) if template.users else held
    return PointPlan(template.users, held, frames, measured, rate=rate)


def point_config(template: ReplayConfig, plan: PointPlan) -> ReplayConfig:
    if plan.rate:  # a live target's own memory is sampled from /proc: no heap pass
        return msgspec.structs.replace(template, pace=f"rate:{plan.rate}/s", limit=plan.limit)
    # A router that keeps nothing per user gets its whole run traced: the heap pass then
    # replays only the messages it traces, and a backend's own caches need all of them.
    traced = plan.limit if template.keep == "nothing" else min(template.heap_messages, plan.limit)
    warmup = template.warmup if plan.warmup is None else plan.warmup
    return msgspec.structs.replace(
        template, users=plan.users, limit=plan.limit, warmup=warmup, heap=True,
        heap_messages=traced,
    )  # fmt: skip


PointStarted = Callable[[int, PointPlan], None]
PointDone = Callable[[SweepResult, SweepPoint], None]


def sweep_axis(template: ReplayConfig, users: Sequence[int], rates: Sequence[int]) -> Axis:
    """Which axis a sweep runs along: user counts in process, or rates to a live target."""
    if bool(users) == bool(rates) or any(n < 1 for n in (*users, *rates)):
        raise ConfigError("users", "give user counts or rates (not both), each >= 1")
    if users and template.served:
        raise ConfigError(
            "target", "a users sweep runs the backend in process: --target and --transport go "
            "with --rate",
        )  # fmt: skip
    if rates and not template.served:
        raise ConfigError(
            "rate", "a rate sweep sends to a live router: give --target ADDRESS or --transport"
        )
    return "users" if users else "rate"


def run_sweep(
    template: ReplayConfig,
    users: Sequence[int] = (),
    *,
    rates: Sequence[int] = (),
    progress: PassProgress | None = None,
    on_point: PointStarted | None = None,
    on_result: PointDone | None = None,
) -> SweepResult:
    """Every point of `users` or of `rates` (ascending), then the knees. `on_result` gets the
    sweep so far after each point, to save it: an interrupted sweep keeps every point it
    finished."""
    axis = sweep_axis(template, users, rates)
    # a users sweep cuts each point's warm-up to its messages: only a rate sweep needs it whole
    most = max(users, default=template.users)
    check_inputs(
        msgspec.structs.replace(template, users=most, warmup=0 if users else template.warmup)
    )
    seen = users_seen(Path(template.recording))
    result = SweepResult(
        created_at=now_iso(),
        backend=template.target or template.backend,
        axis=axis,
        config=template,
        recording_frames=seen.frames,
        recording_users=seen.users,
    )
    plans = [plan_point(n, seen, template.warmup, template.limit) for n in sorted(set(users))]
    plans += [plan_rate(rate, seen, template) for rate in sorted(set(rates))]
    for index, plan in enumerate(plans):
        if on_point is not None:
            on_point(index, plan)
        point = run_point(template, plan, progress)
        result.points.append(point)
        result.knees = knees_of(result)
        if on_result is not None:
            on_result(result, point)
    result.complete = True
    return result


def run_point(template: ReplayConfig, plan: PointPlan, progress: PassProgress | None) -> SweepPoint:
    """One point's replay; a failure is the point's error, never the sweep's end. Its
    artefacts (a memray capture is ~10 KB a message) are kept only under --artefacts."""
    config = point_config(template, plan)
    point = SweepPoint(
        users=plan.users, users_held=plan.users_held, frames=plan.frames, note=plan.note,
        rate=plan.rate, config=config,
    )  # fmt: skip
    folder_name = f"rate-{plan.rate}" if plan.rate else f"users-{plan.users}"
    keep = Path(template.artefacts) / folder_name if template.artefacts else None
    folder = keep or Path(tempfile.mkdtemp(prefix="treasure-sweep-"))
    started = time.perf_counter()
    try:
        run = run_replay(config, artefact_dir=folder, progress=progress, checked=True)
    except TreasureError as exc:
        point.error = str(exc)
    else:
        if keep is None:
            run.artefacts = {}
            if run.heap is not None:
                run.heap.artefacts = {}
        point.run, point.figures = run, figures_of(run)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    point.seconds = time.perf_counter() - started
    return point
