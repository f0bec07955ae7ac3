"""Heap per message: the replay loop under memray, split into messages by sentinels.

The whole pass runs under one `memray.Tracker` (native allocations and Python's allocators
both traced), so everything the session model keeps alive for its users is in the capture
and the run's peak heap is the real one. Only every k-th message is *traced*: bracketed by
sentinels and split out afterwards. The messages in between go through the same handler
and session model, tracked but not split, so traced message 900 sees the state 899
messages built. Every message costs the tracker's overhead and its records in the capture
(reading costs ~1 µs per record, several thousand records per DOM message), so the heap
pass should be given a bounded recording (--limit) as well as a bounded traced sample.

A message's figures count only blocks the handler allocated between its sentinels
(beneath `call_handler`): freeing older memory never makes a message look cheaper, and
the loop's own allocations never make it look dearer. Its result stays referenced until
the end sentinel, so what the handler hands back counts as retained.

A backend whose allocations memray cannot see is reported as not measurable, never as
0 bytes. Three witnesses, none of them memray: the backend says so (`heap_not_measurable`,
or `HEAP_NOT_MEASURABLE` in the registry); a library it loaded maps its own pages and
imports no allocator memray hooks (`_heap_libraries`); or while it ran the kernel faulted
in far more fresh pages than memray saw allocated, or memray saw nothing at all
(`blind_spot`).
"""

from __future__ import annotations

import csv
import logging
import math
import mmap
import resource
import subprocess
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import memray

from treasure.parsers import create, resolve
from treasure.probes import _sentinel
from treasure.probes._heap_libraries import invisible_libraries, mapped_libraries
from treasure.probes._heap_records import (
    AllocationRecord,
    CaptureAnalysis,
    MessageHeap,
    StackKind,
    TracedMessage,
    analyse_records,
)
from treasure.probes.latency import exact_distribution
from treasure.results import HeapSummary, ReplayConfig
from treasure.sessions import SessionModel, handler_for

log = logging.getLogger(__name__)

CAPTURE_NAME = "heap.memray"
FLAMEGRAPH_NAME = "heap-flamegraph.html"
MESSAGES_NAME = "heap-messages.csv"
TIMELINE_POINTS = 500
PAGE_BYTES = mmap.PAGESIZE
# The page-fault witness: fresh pages a message touched beyond what memray saw allocated.
BLIND_RATIO = 4
BLIND_FLOOR_BYTES = 64 * 1024


class FrameLike(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def user_id(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass(frozen=True)
class TracePlan:
    """Which measured messages are traced: every `stride`-th, up to `messages` of them."""

    measured: int
    messages: int

    @property
    def stride(self) -> int:
        return max(1, math.ceil(self.measured / self.messages)) if self.messages > 0 else 0

    @property
    def count(self) -> int:
        return 0 if not self.stride else min(self.messages, math.ceil(self.measured / self.stride))

    def describe(self, warmup: int) -> str:
        if not self.count:
            return f"no message traced (of {self.measured})"
        after = f" after {warmup} warm-up" if warmup else ""
        step = "every message" if self.stride == 1 else f"every {_ordinal(self.stride)} message"
        return f"{step} of {self.measured}{after}, from the first: {self.count} traced"


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
) -> _Loop:
    loop = _Loop(plan.count)
    admit, call = model.admit, _sentinel.call_handler
    begin, end = _sentinel.mark_begin, _sentinel.mark_end
    measured = 0
    for frame in frames:
        if frame.index < warmup:  # warm-up: builds state and heats caches, never traced
            admit(frame.user_id, _handle(handler, frame.payload))
            continue
        if measured == plan.measured:
            break
        payload = frame.payload
        if loop.traced < plan.count and measured == loop.traced * plan.stride:
            faults = _minor_faults()
            begin()
            try:
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
    loop.measured = measured
    return loop


def classify_stack(record: AllocationRecord) -> StackKind:
    """A record's place in the loop, from its Python stack (innermost frame first)."""
    frames: list[tuple[str, str, int]] = record.stack_trace()  # type: ignore[attr-defined]
    if not frames:
        return StackKind.HARNESS
    function, filename, _ = frames[0]
    if filename == _sentinel.SENTINEL_FILE and function in _sentinel.MARK_FUNCTIONS:
        return StackKind.SENTINEL
    for function, filename, _ in frames:
        if function == _sentinel.HANDLER_FUNCTION and filename == _sentinel.SENTINEL_FILE:
            return StackKind.HANDLER
    return StackKind.HARNESS


def analyse_capture(capture: Path, traced: Sequence[TracedMessage]) -> CaptureAnalysis:
    reader = memray.FileReader(str(capture))
    try:
        return analyse_records(
            reader.get_allocation_records(),
            traced,
            classify_stack,
            begin_size=_sentinel.BEGIN_SIZE,
            end_size=_sentinel.END_SIZE,
        )
    finally:
        reader.close()


def blind_spot(messages: Sequence[MessageHeap], faulted_pages: Sequence[int]) -> str:
    """Why memray cannot see this backend's heap, or "" when it can.

    Two witnesses that do not depend on memray: the handler ran yet memray saw no
    allocation at all, or the kernel faulted in far more fresh pages during the messages
    than memray saw allocated (an allocator that maps memory through raw syscalls or keeps
    growing a private arena). An allocator that only reuses a private arena leaves neither
    trace after warm-up: `_heap_libraries` finds its library by its imports instead.
    """
    if not messages:
        return ""
    if all(message.allocations == 0 for message in messages):
        return (
            f"memray saw no allocation in any of {len(messages)} traced messages although "
            "the handler ran: the backend allocates through an allocator memray does not hook"
        )
    settled = slice(max(1, len(messages) // 10), None)  # first-touch of caches and pools
    seen = sum(message.allocated_bytes for message in messages[settled])
    faulted = sum(faulted_pages[settled]) * PAGE_BYTES
    count = len(messages[settled])
    if count and faulted > BLIND_RATIO * seen + BLIND_FLOOR_BYTES * count:
        return (
            f"the kernel faulted in {faulted // count} bytes of fresh pages per message but "
            f"memray saw only {seen // count} bytes allocated: the backend gets memory "
            "memray does not hook (a private or statically linked allocator, raw mmap)"
        )
    return ""


def write_flamegraph(capture: Path, output: Path) -> str:
    """memray's own flame graph beside the capture; "" on success, else why not."""
    done = subprocess.run(
        [sys.executable, "-m", "memray", "flamegraph", "-f", "-o", str(output), str(capture)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return ""


def write_messages_csv(messages: Sequence[MessageHeap], path: Path) -> None:
    names = [f.name for f in fields(MessageHeap)]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerows([getattr(message, name) for name in names] for message in messages)


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
        users=loop.users,
        timeline=_bounded(analysis.timeline),
        peak_heap_at_users_bytes=analysis.peak_live_bytes,
        capture_records=analysis.records,
    )
    if messages:
        summary.allocated_bytes = over("allocated_bytes")
        summary.allocations = over("allocations")
        summary.peak_bytes = over("peak_bytes")
        summary.retained_bytes = over("retained_bytes")
        summary.native_allocated_bytes = over("native_allocated_bytes")
        summary.native_retained_bytes = over("native_retained_bytes")
        summary.amplification = exact_distribution(
            [m.peak_bytes / m.payload_bytes for m in messages if m.payload_bytes]
        )
    return summary


def withhold(summary: HeapSummary, reason: str) -> HeapSummary:
    """No figure at all rather than a false one: what memray saw of a backend whose heap it
    cannot see would read as a low heap."""
    return HeapSummary(
        measurable=False,
        reason=reason,
        traced_messages=summary.traced_messages,
        traced_selection=summary.traced_selection,
        users=summary.users,
        capture_bytes=summary.capture_bytes,
        capture_records=summary.capture_records,
        pass_seconds=summary.pass_seconds,
        artefacts=summary.artefacts,
    )


def private_allocator_reason(libraries: Sequence[str]) -> str:
    names = ", ".join(Path(path).name for path in libraries)
    return (
        f"{names} maps its own pages and imports no allocator memray hooks (a statically "
        "linked allocator): memray cannot see its heap"
    )


def _keep_artefacts(summary: HeapSummary, capture: Path, messages: Sequence[MessageHeap]) -> None:
    summary.capture_bytes = capture.stat().st_size
    summary.artefacts = {"memray_capture": str(capture)}
    table = capture.with_name(MESSAGES_NAME)
    write_messages_csv(messages, table)
    summary.artefacts["heap_per_message_csv"] = str(table)
    flamegraph = capture.with_name(FLAMEGRAPH_NAME)
    problem = write_flamegraph(capture, flamegraph)
    if problem:
        log.warning("memray flamegraph failed: %s", problem)
    else:
        summary.artefacts["memray_flamegraph"] = str(flamegraph)


def run_heap_pass(
    config: ReplayConfig,
    frames: Iterable[FrameLike],
    *,
    messages: int,
    artefact_dir: Path,
    total_frames: int,
) -> HeapSummary:
    """Replay `frames` under memray and summarise heap per message.

    `total_frames` is how many frames will be measured (after warm-up, within the limit);
    `messages` bounds how many of them are traced, spread evenly over them. Meant for a
    fresh process: the libraries loaded from here on are taken to be the backend's.
    """
    started = time.perf_counter()
    before = mapped_libraries()
    info = resolve(config.backend)
    if not info.heap_measurable:
        return HeapSummary(measurable=False, reason=info.heap_note, users=config.users)
    backend = create(config.backend)
    unseen = invisible_libraries(mapped_libraries(), before)
    if unseen:
        reason = private_allocator_reason(unseen)
        return HeapSummary(measurable=False, reason=reason, users=config.users)
    handler = handler_for(backend, config.keep)
    model = SessionModel(config.users, config.keep, config.in_flight)
    measured = total_frames if config.limit is None else min(total_frames, config.limit)
    plan = TracePlan(measured, messages)
    artefact_dir.mkdir(parents=True, exist_ok=True)
    capture = artefact_dir / CAPTURE_NAME
    destination = memray.FileDestination(capture, overwrite=True)
    tracked_started = time.perf_counter()
    with memray.Tracker(destination=destination, trace_python_allocators=True, native_traces=False):
        loop = _replay(frames, handler, model, plan, config.warmup)
    tracked_seconds = time.perf_counter() - tracked_started
    loop.users = config.users or len(model.state)
    model.clear()
    analysis = analyse_capture(capture, loop.messages())
    summary = summarise(analysis, loop, plan, config)
    _keep_artefacts(summary, capture, analysis.messages)
    summary.pass_seconds = time.perf_counter() - started
    summary.tracked_seconds = tracked_seconds
    summary.tracked_messages = loop.measured
    unseen = invisible_libraries(mapped_libraries(), before)  # some load on first use
    reason = blind_spot(analysis.messages, loop.faulted_pages[: loop.traced])
    if unseen or reason:
        return withhold(summary, private_allocator_reason(unseen) if unseen else reason)
    return summary
