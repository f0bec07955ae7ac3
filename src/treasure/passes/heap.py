"""The heap pass: the replay loop under one memray.Tracker, every k-th message bracketed
by sentinels, then the capture split into messages by `treasure.probes.heap`.

The whole pass runs under the tracker (native allocations and Python's allocators both
traced), so everything the session model keeps alive for its users is in the capture
and the run's peak heap is the real one. Only a sample of the messages is *traced*: every
message when the sample is as large as the run, else a seeded uniform random sample (a
fixed stride aliases with periodic behaviour: tracing every 4th message finds none or all
of an every-4th-message leak), recorded in the result as method, seed and count. The messages
in between go through the same handler and session model, tracked but not split, so traced
message 900 sees the state 899 messages built. Every message costs the tracker's overhead
and its records in the capture, so the heap pass should be given a bounded recording
(--limit) as well as a bounded traced sample.
"""

from __future__ import annotations

import math
import os
import random
import resource
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import memray

from treasure.disk_budget import DISK_STOP, CaptureBudget, choose_budget
from treasure.parsers import create, resolve
from treasure.passes.capture_guard import CHECK_EVERY, CaptureGuard
from treasure.probes import _sentinel, unwatched
from treasure.probes._heap_libraries import invisible_libraries, mapped_libraries
from treasure.probes._heap_records import CaptureAnalysis, MessageHeap, TracedMessage
from treasure.probes.heap import (
    CAPTURE_NAME,
    FLAMEGRAPH_NAME,
    MESSAGES_NAME,
    TIMELINE_POINTS,
    Flamegraph,
    analyse_capture,
    blind_spot,
    log,
    private_allocator_reason,
    withhold,
    write_messages_csv,
)
from treasure.probes.latency import exact_distribution
from treasure.results import HeapSummary, ReplayConfig
from treasure.sessions import SessionModel, handler_for

PROGRESS_EVERY = 200  # traced messages cost ~1 ms each: report often


class FrameLike(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def user_id(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


TRACE_SEED = 13  # fixed, so a rerun traces the same messages
COMPRESS_SWITCH = "TREASURE_CAPTURE_LZ4"  # "0": keep the capture as memray wrote it
EVERY_MESSAGE = "every message"
SEEDED_RANDOM = "seeded random sample"


@dataclass(frozen=True)
class TracePlan:
    """Which measured messages are traced: all of them when `messages` covers the run, else
    `messages` of them drawn uniformly at random without replacement with `seed`."""

    measured: int
    messages: int
    seed: int = TRACE_SEED

    @property
    def count(self) -> int:
        return max(0, min(self.messages, self.measured))

    @property
    def method(self) -> str:
        return EVERY_MESSAGE if self.count == self.measured else SEEDED_RANDOM

    def positions(self) -> array[int]:
        """The traced messages' positions among the measured ones, ascending."""
        if self.method == EVERY_MESSAGE:
            return array("q", range(self.count))
        return array("q", sorted(random.Random(self.seed).sample(range(self.measured), self.count)))

    def describe(self, warmup: int) -> str:
        if not self.count:
            return f"no message traced (of {self.measured})"
        after = f" after {warmup} warm-up" if warmup else ""
        if self.method == EVERY_MESSAGE:
            return f"every message of {self.measured}{after}: {self.count} traced"
        return (
            f"{self.count} of {self.measured}{after} drawn at random (seed {self.seed}): "
            f"{self.count} traced"
        )


class _Loop:
    """What the traced loop leaves behind, in preallocated arrays (no allocation per message)."""

    def __init__(self, count: int) -> None:
        self.frame_index = array("q", bytes(8 * count))
        self.payload_bytes = array("q", bytes(8 * count))
        self.faulted_pages = array("q", bytes(8 * count))
        self.traced = 0
        self.measured = 0
        self.users = 0

    def record(self, frame_index: int, payload_bytes: int, faulted_pages: int) -> None:
        self.frame_index[self.traced] = frame_index
        self.payload_bytes[self.traced] = payload_bytes
        self.faulted_pages[self.traced] = faulted_pages
        self.traced += 1

    def messages(self) -> list[TracedMessage]:
        pairs = zip(self.frame_index[: self.traced], self.payload_bytes[: self.traced], strict=True)
        return [TracedMessage(index, size) for index, size in pairs]


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _handle(handler: Callable[[bytes], Any], payload: bytes) -> Any:
    try:
        return handler(payload)
    except Exception:  # the timing pass counts errors; here the message only has to run
        return None


def _replay(
    frames: Iterable[FrameLike],
    handler: Callable[[bytes], Any],
    model: SessionModel,
    plan: TracePlan,
    warmup: int,
    keep_going: Callable[[], bool],
    progress: Callable[[int], None] | None = None,
) -> _Loop:
    loop = _Loop(plan.count)
    positions = plan.positions()
    positions.append(-1)  # past the last traced message, no position matches
    admit, call = model.admit, _sentinel.call_handler
    run, call_unwatched = unwatched.compiled_call(), _sentinel.call_unwatched
    reinstall = unwatched.memray_reinstall()
    begin, end = _sentinel.mark_begin, _sentinel.mark_end
    measured = 0
    for frame in frames:
        if frame.index < warmup:  # warm-up: builds state and heats caches, never traced
            admit(frame.user_id, _handle(handler, frame.payload))
            continue
        if measured == plan.measured:
            break
        payload = frame.payload
        if measured == positions[loop.traced]:
            faults = _minor_faults()
            begin()
            try:
                if run is not None:  # no profile function: no frame objects of the tracer's
                    handled = call_unwatched(run, handler, payload, reinstall)
                else:
                    handled = call(handler, payload)
            except Exception:
                handled = None
            end()  # `handled` is still referenced here, or "retained" would read 0
            loop.record(frame.index, len(payload), _minor_faults() - faults)
        else:
            handled = _handle(handler, payload)
        admit(frame.user_id, handled)
        del handled
        measured += 1
        if measured % CHECK_EVERY == 0 and not keep_going():
            break  # the capture's disk budget, or the disk: stop between two messages
        if progress is not None and measured % PROGRESS_EVERY == 0:
            progress(measured)  # outside the sentinels: never in a message's figures
    loop.measured = measured
    return loop


def _bounded(timeline: list[tuple[int, int]]) -> list[tuple[int, int]]:
    step = max(1, math.ceil(len(timeline) / TIMELINE_POINTS))
    return timeline[::step]


def summarise(
    analysis: CaptureAnalysis, loop: _Loop, plan: TracePlan, config: ReplayConfig
) -> HeapSummary:
    messages = analysis.messages

    def over(name: str) -> Any:
        return exact_distribution([getattr(message, name) for message in messages])

    summary = HeapSummary(
        measurable=True,
        traced_messages=len(messages),
        traced_selection=plan.describe(config.warmup),
        trace_method=plan.method,
        trace_seed=plan.seed if plan.method == SEEDED_RANDOM else None,
        users=loop.users,
        timeline=_bounded(analysis.timeline),
        peak_heap_at_users_bytes=analysis.peak_live_bytes,
        capture_records=analysis.records,
        capture_reader=analysis.reader,
        capture_reader_note=analysis.reader_note,
    )
    problem = unwatched.unavailable()
    summary.profiler_excluded = not problem
    summary.profiler_note = (
        f"{problem}: the figures include the frame object memray's profile function makes "
        "for every Python call (~150-250 B each)"
        if problem
        else "handlers ran with memray's profile function off: no frame objects of the tracer's"
    )
    if analysis.other_thread_bytes_between:
        summary.partial = True
        summary.partial_reason = (
            f"{analysis.other_thread_bytes_between} bytes were allocated on other threads "
            "between traced messages: a helper thread still working after its message (or "
            "during an untraced one) is not in any message's figures"
        )
    if messages:
        summary.allocated_bytes = over("allocated_bytes")
        summary.allocations = over("allocations")
        summary.peak_bytes = over("peak_bytes")
        summary.retained_bytes = over("retained_bytes")
        summary.native_allocated_bytes = over("native_allocated_bytes")
        summary.native_retained_bytes = over("native_retained_bytes")
        summary.other_thread_bytes = over("other_thread_bytes")
        summary.amplification = exact_distribution(
            [m.peak_bytes / m.payload_bytes for m in messages if m.payload_bytes]
        )
    return summary


def _keep_artefacts(
    summary: HeapSummary,
    capture: Path,
    messages: Sequence[MessageHeap],
    drawing: Flamegraph | None,
) -> None:
    summary.capture_bytes = capture.stat().st_size
    summary.artefacts = {"memray_capture": str(capture)}
    table = capture.with_name(MESSAGES_NAME)
    write_messages_csv(messages, table)
    summary.artefacts["heap_per_message_csv"] = str(table)
    flamegraph = capture.with_name(FLAMEGRAPH_NAME)
    problem = (drawing or Flamegraph(capture, flamegraph)).result()
    if problem:
        log.warning("memray flamegraph failed: %s", problem)
    else:
        summary.artefacts["memray_flamegraph"] = str(flamegraph)


def _stopped_short(
    summary: HeapSummary, budget: CaptureBudget, capture: Path, messages: Sequence[MessageHeap]
) -> None:
    """Figures of the messages traced before the stop, said to be partial; the capture is
    removed (it is what filled the budget or the disk), the small per-message table kept."""
    summary.capture_bytes = budget.capture_bytes
    capture.unlink(missing_ok=True)
    covered = (
        f"{budget.reason}: the heap pass stopped after {summary.tracked_messages:,} messages "
        f"and its figures cover the {len(messages):,} traced before that; the capture was "
        "removed"
    )
    summary.partial = True
    summary.partial_reason = "; ".join(filter(None, [covered, summary.partial_reason]))
    summary.traced_selection += f"; stopped after {summary.tracked_messages:,} messages"
    table = capture.with_name(MESSAGES_NAME)
    try:
        write_messages_csv(messages, table)
    except OSError as exc:  # a full disk may refuse this too: the figures are in the result
        log.warning("per-message heap table not written: %s", exc)
    else:
        summary.artefacts = {"heap_per_message_csv": str(table)}


def run_heap_pass(
    config: ReplayConfig,
    frames: Iterable[FrameLike],
    *,
    messages: int,
    artefact_dir: Path,
    total_frames: int,
    progress: Callable[[int], None] | None = None,
    compress_capture: bool | None = None,
) -> HeapSummary:
    """Replay `frames` under memray and summarise heap per message.

    `total_frames` is how many frames will be measured (after warm-up, within the limit);
    `messages` bounds how many of them are traced, spread evenly over them. Meant for a
    fresh process: the libraries loaded from here on are taken to be the backend's.
    memray compresses the capture (lz4) when the tracker stops: ~30 % less disk for ~50 ms
    per 10 MB, and the native capture reader reads it either way; `compress_capture=False`
    (or TREASURE_CAPTURE_LZ4=0 when not given) keeps it as memray's writer left it.
    """
    if compress_capture is None:
        compress_capture = os.environ.get(COMPRESS_SWITCH) != "0"
    started = time.perf_counter()
    before = mapped_libraries()
    info = resolve(config.backend)
    if not info.heap_measurable:
        return HeapSummary(measurable=False, reason=info.heap_note, users=config.users)
    backend = create(config.backend, routing=config.routing_spec)
    unseen = invisible_libraries(mapped_libraries(), before)
    if unseen:
        reason = private_allocator_reason(unseen)
        return HeapSummary(measurable=False, reason=reason, users=config.users)
    handler = handler_for(backend, config.keep)
    if progress is not None:
        progress(0)  # the first report: the backend is constructed
    model = SessionModel(config.users, config.keep, config.in_flight)
    measured = total_frames if config.limit is None else min(total_frames, config.limit)
    plan = TracePlan(measured, messages)
    artefact_dir.mkdir(parents=True, exist_ok=True)
    capture = artefact_dir / CAPTURE_NAME
    budget = choose_budget(config.capture_budget, artefact_dir)
    destination = memray.FileDestination(capture, overwrite=True, compress_on_exit=compress_capture)
    tracked_started = time.perf_counter()
    with CaptureGuard(capture, budget) as guard:
        with (
            memray.Tracker(
                destination=destination, trace_python_allocators=True, native_traces=False
            ),
            unwatched.threads_unwatched(),  # helper threads: no frame objects either
        ):
            loop = _replay(frames, handler, model, plan, config.warmup, guard.check, progress)
        guard.check_disk()  # memray may have stopped writing after the last check
    tracked_seconds = time.perf_counter() - tracked_started
    loop.users = config.users or len(model.state)
    model.clear()
    # drawn beside the analysis, from the same closed capture (not when a budget stopped it)
    drawing = None if budget.stopped else Flamegraph(capture, capture.with_name(FLAMEGRAPH_NAME))
    try:
        reading_started = time.perf_counter()
        analysis = analyse_capture(
            capture, loop.messages(), may_end_early=budget.stopped == DISK_STOP
        )
        analysis_seconds = time.perf_counter() - reading_started
        if loop.measured == plan.measured and len(analysis.messages) == loop.traced:
            budget.stopped, budget.reason = "", ""  # stopped at the end, or after it: none lost
        summary = summarise(analysis, loop, plan, config)
        summary.analysis_seconds = analysis_seconds
        summary.capture = budget
        summary.tracked_messages = loop.measured
        if budget.stopped:
            if drawing is not None:
                drawing.cancel()
            _stopped_short(summary, budget, capture, analysis.messages)
        else:
            _keep_artefacts(summary, capture, analysis.messages, drawing)
    except BaseException:
        if drawing is not None:
            drawing.cancel()
        raise
    summary.pass_seconds = time.perf_counter() - started
    summary.tracked_seconds = tracked_seconds
    if progress is not None:
        progress(loop.measured)
    unseen = invisible_libraries(mapped_libraries(), before)  # some load on first use
    reason = blind_spot(analysis.messages, loop.faulted_pages[: loop.traced])
    if unseen or reason:
        return withhold(summary, private_allocator_reason(unseen) if unseen else reason)
    return summary
