"""Heap per message from a memray capture split into messages by sentinels (the pass that
writes the capture is `treasure.passes.heap`). A DOM message makes several thousand
records; treasure-rs reads memray's format natively (~0.1 µs per record), memray's own
reader in Python costs ~1-2 µs per record and reads what the native one refuses.

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
import mmap
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, cast

import memray

from treasure.probes import _sentinel
from treasure.probes._heap_records import (
    AllocationRecord,
    CaptureAnalysis,
    CaptureCut,
    CaptureMismatch,
    MessageHeap,
    StackKind,
    TracedMessage,
    analyse_records,
)
from treasure.results import HeapSummary

log = logging.getLogger(__name__)

CAPTURE_NAME = "heap.memray"
FLAMEGRAPH_NAME = "heap-flamegraph.html"
MESSAGES_NAME = "heap-messages.csv"
TIMELINE_POINTS = 500
PAGE_BYTES = mmap.PAGESIZE
# The page-fault witness: fresh pages a message touched beyond what memray saw allocated.
BLIND_RATIO = 4
BLIND_FLOOR_BYTES = 64 * 1024


def classify_stack(record: AllocationRecord) -> StackKind:
    """A record's place in the loop, from its Python stack (innermost frame first)."""
    frames: list[tuple[str, str, int]] = record.stack_trace()  # type: ignore[attr-defined]
    if not frames:  # memray's profile function was off (an unwatched handler) or no Python
        return StackKind.UNSTACKED
    function, filename, _ = frames[0]
    if filename == _sentinel.SENTINEL_FILE and function in _sentinel.MARK_FUNCTIONS:
        return StackKind.SENTINEL
    for function, filename, _ in frames:
        if function == _sentinel.HANDLER_FUNCTION and filename == _sentinel.SENTINEL_FILE:
            return StackKind.HANDLER
    return StackKind.HARNESS


NATIVE_READER = "treasure-rs"  # treasure_rs._native.analyse_memray_capture
MEMRAY_READER = "memray"  # memray's FileReader, record by record in Python
READERS = (NATIVE_READER, MEMRAY_READER)
READER_SWITCH = "TREASURE_CAPTURE_READER"  # "memray": memray's reader only


def _native_split() -> Callable[..., tuple[str, Any]] | str:
    """The native split, or why it cannot run here."""
    try:
        from treasure_rs import _native
    except ImportError as exc:
        return f"treasure-rs is not installed ({exc})"
    split = getattr(_native, "analyse_memray_capture", None)
    if split is None:
        return "this build of treasure-rs has no capture reader"
    return cast("Callable[..., tuple[str, Any]]", split)


def _analyse_natively(
    capture: Path, traced: Sequence[TracedMessage], may_end_early: bool
) -> CaptureAnalysis | str:
    """The split by treasure-rs's reader of memray's format, or why it could not read the
    capture exactly (an unknown format version, record type or header setting)."""
    split = _native_split()
    if isinstance(split, str):
        return split
    status, value = split(
        str(capture),
        len(traced),
        _sentinel.BEGIN_SIZE,
        _sentinel.END_SIZE,
        _sentinel.SENTINEL_FILE,
        sorted(_sentinel.MARK_FUNCTIONS),
        _sentinel.HANDLER_FUNCTION,
        may_end_early,
    )
    if status == "mismatch":
        raise CaptureMismatch(value)
    if status == "cut":
        raise CaptureCut(value)
    if status != "ok":
        return str(value)
    rows, peak_live_bytes, live_at_end, records, between = value
    messages = [
        MessageHeap(message.frame_index, message.payload_bytes, *row)
        for message, row in zip(traced, rows, strict=False)
    ]
    timeline = [(m.frame_index, live) for m, live in zip(messages, live_at_end, strict=True)]
    return CaptureAnalysis(
        messages, peak_live_bytes, timeline, records, between, reader=NATIVE_READER
    )


def analyse_capture(
    capture: Path, traced: Sequence[TracedMessage], may_end_early: bool = False
) -> CaptureAnalysis:
    """Per-message figures of a capture: read natively, or by memray's own reader (same
    figures, ~20x slower) where the native reader cannot read it exactly or
    TREASURE_CAPTURE_READER=memray asks for it. The result says which reader ran."""
    if os.environ.get(READER_SWITCH) == MEMRAY_READER:
        note = f"{READER_SWITCH}={MEMRAY_READER}"
    else:
        found = _analyse_natively(capture, traced, may_end_early)
        if isinstance(found, CaptureAnalysis):
            return found
        note = f"the native capture reader could not read it: {found}"
        log.info("%s; reading with memray's reader", note)
    analysis = analyse_with_memray(capture, traced, may_end_early)
    analysis.reader, analysis.reader_note = MEMRAY_READER, note
    return analysis


def analyse_with_memray(
    capture: Path, traced: Sequence[TracedMessage], may_end_early: bool = False
) -> CaptureAnalysis:
    """The split over memray's `FileReader`, record by record (~1 µs each)."""
    reader = memray.FileReader(str(capture))
    try:
        return analyse_records(
            reader.get_allocation_records(),
            traced,
            classify_stack,
            begin_size=_sentinel.BEGIN_SIZE,
            end_size=_sentinel.END_SIZE,
            may_end_early=may_end_early,
        )
    finally:
        reader.close()


def blind_spot(messages: Sequence[MessageHeap], faulted_pages: Sequence[int]) -> str:
    """Why memray cannot see this backend's heap, or "" when it can.

    The witness does not depend on memray: the kernel faulted in far more fresh pages
    during the messages than memray saw allocated (an allocator that maps memory through
    raw syscalls or keeps growing a private arena), or faulted in a page per message while
    memray saw no allocation at all. A backend that allocates nothing faults nothing, and
    reads 0 B: with the tracer's frame objects left out that is a true figure. An allocator
    that only reuses a private arena leaves no trace after warm-up: `_heap_libraries` finds
    its library by its imports instead.
    """
    if not messages:
        return ""
    settled = slice(max(1, len(messages) // 10), None)  # first-touch of caches and pools
    seen = sum(message.allocated_bytes for message in messages[settled])
    pages = sum(faulted_pages[settled])
    faulted = pages * PAGE_BYTES
    count = len(messages[settled])
    if all(message.allocations == 0 for message in messages) and count and pages >= count:
        return (
            f"memray saw no allocation in any of {len(messages)} traced messages while the "
            f"kernel faulted in {faulted // count} bytes of fresh pages per message: the "
            "backend allocates through an allocator memray does not hook"
        )
    if count and faulted > BLIND_RATIO * seen + BLIND_FLOOR_BYTES * count:
        return (
            f"the kernel faulted in {faulted // count} bytes of fresh pages per message but "
            f"memray saw only {seen // count} bytes allocated: the backend gets memory "
            "memray does not hook (a private or statically linked allocator, raw mmap)"
        )
    return ""


class Flamegraph:
    """memray's own flame graph of a capture, drawn by a child process: started as soon as
    the capture is closed, it runs on the other core while the capture is analysed, instead
    of reading the whole capture again after the analysis."""

    def __init__(self, capture: Path, output: Path) -> None:
        # a file, not a pipe (a full pipe would stall it); closed by result() or cancel()
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        command = [sys.executable, "-m", "memray", "flamegraph", "-f", "-o", str(output)]
        self._process = subprocess.Popen(
            [*command, str(capture)], stdout=subprocess.DEVNULL, stderr=self._errors, text=True
        )

    def result(self) -> str:
        """ "" once the flame graph is written, else why not."""
        code = self._process.wait()
        if self._errors.closed:
            return "" if code == 0 else f"exit {code}"
        with self._errors:
            if code == 0:
                return ""
            self._errors.seek(0)
            lines = self._errors.read().strip().splitlines()
        return (lines or [f"exit {code}"])[-1]

    def cancel(self) -> None:
        """Stop it, if still drawing: its capture is removed, or the pass failed."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._errors.close()


def write_flamegraph(capture: Path, output: Path) -> str:
    """memray's own flame graph beside the capture; "" on success, else why not."""
    return Flamegraph(capture, output).result()


def write_messages_csv(messages: Sequence[MessageHeap], path: Path) -> None:
    names = [f.name for f in fields(MessageHeap)]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerows([getattr(message, name) for name in names] for message in messages)


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
        capture_reader=summary.capture_reader,
        capture_reader_note=summary.capture_reader_note,
        analysis_seconds=summary.analysis_seconds,
        pass_seconds=summary.pass_seconds,
        artefacts=summary.artefacts,
    )


def private_allocator_reason(libraries: Sequence[str]) -> str:
    names = ", ".join(Path(path).name for path in libraries)
    return (
        f"{names} maps its own pages and imports no allocator memray hooks (a statically "
        "linked allocator): memray cannot see its heap"
    )
