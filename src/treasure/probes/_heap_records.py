"""Split a memray capture into messages: pure bookkeeping over allocation records.

Records come in allocation order. A message is the span between a begin and an end
sentinel (see `_sentinel`); within it only records whose Python stack runs through the
handler frame count. Every record, inside a message or not, moves the run's live heap.
A free carries size 0, so live blocks are kept as address -> size; a realloc arrives as a
free of the old block followed by an allocation of the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from memray import AllocatorType

FREES = frozenset({AllocatorType.FREE, AllocatorType.PYMALLOC_FREE})
PYTHON_ALLOCATIONS = frozenset(
    {AllocatorType.PYMALLOC_MALLOC, AllocatorType.PYMALLOC_CALLOC, AllocatorType.PYMALLOC_REALLOC}
)
UNMAP = int(AllocatorType.MUNMAP)
_FREE_CODES = frozenset(int(kind) for kind in FREES)
_PYTHON_CODES = frozenset(int(kind) for kind in PYTHON_ALLOCATIONS)


class AllocationRecord(Protocol):
    """The fields of `memray.AllocationRecord` this module reads."""

    @property
    def address(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def allocator(self) -> int: ...
    @property
    def stack_id(self) -> int: ...


class StackKind(Enum):
    HANDLER = "handler"  # runs beneath the handler frame: the message's own work
    SENTINEL = "sentinel"  # a boundary mark
    HARNESS = "harness"  # the replay loop, ctypes, the recording reader


@dataclass(frozen=True)
class TracedMessage:
    frame_index: int
    payload_bytes: int


@dataclass
class MessageHeap:
    """What one traced message cost. `peak_bytes` and `retained_bytes` count only blocks the
    message itself allocated: freeing older memory never makes a message look cheaper."""

    frame_index: int
    payload_bytes: int
    allocated_bytes: int = 0
    allocations: int = 0
    peak_bytes: int = 0
    retained_bytes: int = 0  # allocated in the message, still live at its end sentinel
    native_allocated_bytes: int = 0
    native_retained_bytes: int = 0


@dataclass
class CaptureAnalysis:
    messages: list[MessageHeap]
    peak_live_bytes: int  # highest live heap of the whole capture (sentinels excluded)
    timeline: list[tuple[int, int]]  # [frame_index, live heap at the message's end]
    records: int


class CaptureMismatch(Exception):
    """The sentinels in a capture do not match the messages the loop traced."""


class _Tracer:
    """The running state of one pass over the records."""

    def __init__(self, traced: Sequence[TracedMessage], begin_size: int, end_size: int) -> None:
        self.traced = traced
        self.begin_size = begin_size
        self.end_size = end_size
        self.live: dict[int, int] = {}
        self.live_bytes = 0
        self.peak_live_bytes = 0
        self.current: MessageHeap | None = None
        self.own: dict[int, int] = {}  # blocks the current message allocated, still live
        self.own_native: set[int] = set()
        self.own_live = 0
        self.own_native_live = 0
        self.done: list[MessageHeap] = []
        self.timeline: list[tuple[int, int]] = []

    def free(self, address: int, unmapped: int) -> None:
        size = self.live.pop(address, None)
        if size is None:
            return  # allocated before tracking began
        rest = address + unmapped
        if 0 < unmapped < size:  # munmap of the front of a mapping: the rest stays
            self.live[rest] = size - unmapped
            size = unmapped
        self.live_bytes -= size
        if self.own.pop(address, None) is None:
            return
        self.own_live -= size
        native = address in self.own_native
        if native:
            self.own_native.discard(address)
            self.own_native_live -= size
        if rest in self.live and unmapped > 0:
            self.own[rest] = self.live[rest]
            if native:
                self.own_native.add(rest)

    def allocate(self, address: int, size: int, native: bool, counted: bool) -> None:
        self.live[address] = size
        self.live_bytes += size
        if self.live_bytes > self.peak_live_bytes:
            self.peak_live_bytes = self.live_bytes
        message = self.current
        if message is None or not counted:
            return
        message.allocated_bytes += size
        message.allocations += 1
        self.own[address] = size
        self.own_live += size
        if self.own_live > message.peak_bytes:
            message.peak_bytes = self.own_live
        if native:
            message.native_allocated_bytes += size
            self.own_native.add(address)
            self.own_native_live += size

    def begin(self) -> None:
        if self.current is not None:
            raise CaptureMismatch("a begin sentinel inside a message")
        if len(self.done) >= len(self.traced):
            raise CaptureMismatch(f"more begin sentinels than the {len(self.traced)} traced")
        traced = self.traced[len(self.done)]
        self.current = MessageHeap(traced.frame_index, traced.payload_bytes)

    def end(self) -> None:
        message = self.current
        if message is None:
            raise CaptureMismatch("an end sentinel outside a message")
        message.retained_bytes = self.own_live
        message.native_retained_bytes = self.own_native_live
        self.done.append(message)
        self.timeline.append((message.frame_index, self.live_bytes))
        self.current = None
        self.own.clear()
        self.own_native.clear()
        self.own_live = self.own_native_live = 0


def analyse_records(
    records: Iterable[AllocationRecord],
    traced: Sequence[TracedMessage],
    stack_kind: Callable[[AllocationRecord], StackKind],
    *,
    begin_size: int,
    end_size: int,
) -> CaptureAnalysis:
    """Per-message heap figures for `traced` (in loop order) from records in file order.

    `stack_kind` classifies a record by its Python stack; it is asked once per stack id.
    """
    tracer = _Tracer(traced, begin_size, end_size)
    kinds: dict[int, StackKind] = {}
    count = 0
    for record in records:
        count += 1
        allocator = record.allocator
        if allocator in _FREE_CODES:
            tracer.free(record.address, 0)
            continue
        if allocator == UNMAP:
            tracer.free(record.address, record.size)
            continue
        size = record.size
        sentinel = size in (begin_size, end_size)
        kind = StackKind.HARNESS
        if sentinel or tracer.current is not None:
            known = kinds.get(record.stack_id)
            kind = (
                known
                if known is not None
                else kinds.setdefault(record.stack_id, stack_kind(record))
            )
        if sentinel and kind is StackKind.SENTINEL:
            tracer.begin() if size == begin_size else tracer.end()
            continue
        native = allocator not in _PYTHON_CODES
        tracer.allocate(record.address, size, native, kind is StackKind.HANDLER)
    if tracer.current is not None or len(tracer.done) != len(traced):
        raise CaptureMismatch(
            f"the capture holds {len(tracer.done)} complete messages, the loop traced {len(traced)}"
        )
    return CaptureAnalysis(tracer.done, tracer.peak_live_bytes, tracer.timeline, count)
