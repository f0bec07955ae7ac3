"""Split a memray capture into messages: pure bookkeeping over allocation records.

Records come in allocation order. A message is the span between a begin and an end
sentinel (see `_sentinel`); within it a record counts unless the loop thread made it
outside the handler (the loop's own bookkeeping): records whose Python stack runs through
the handler frame, records with no Python stack (the handler ran with memray's profile
function off, see `unwatched`) and records made on any other thread while the message was
in flight (a backend's helper threads). Every record, inside a message or not, moves the
run's live heap. Allocations other threads make between traced messages are summed, so a
helper thread that outlives its message shows as a partial figure, never a silent one.
A free carries size 0, so live blocks are kept as address -> size; a realloc arrives as a
free of the old block followed by an allocation of the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
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
    @property
    def tid(self) -> int: ...


class StackKind(Enum):
    HANDLER = "handler"  # runs beneath the handler frame: the message's own work
    UNSTACKED = "unstacked"  # no Python stack: an unwatched handler or a native thread
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
    other_thread_bytes: int = 0  # of allocated_bytes, allocated on threads besides the loop's


@dataclass
class CaptureAnalysis:
    messages: list[MessageHeap]
    peak_live_bytes: int  # highest live heap of the whole capture (sentinels excluded)
    timeline: list[tuple[int, int]]  # [frame_index, live heap at the message's end]
    records: int
    # allocated on threads besides the loop's outside any traced message, after the first
    other_thread_bytes_between: int = 0
    reader: str = ""  # which reader read the capture (treasure.probes.heap READERS)
    reader_note: str = ""  # why memray's own reader read it, when the native one could not


class CaptureMismatch(Exception):
    """The sentinels in a capture do not match the messages the loop traced."""


class CaptureCut(CaptureMismatch):
    """The capture ends inside a message: its writer stopped (a full disk)."""


class _Split:
    """One pass over the records. Two tight loops, since reading a capture costs a
    microsecond per record: outside a message only the run's live heap moves; inside one,
    the message's own blocks are followed too. Locals stand in for attributes in both."""

    def __init__(
        self,
        traced: Sequence[TracedMessage],
        stack_kind: Callable[[AllocationRecord], StackKind],
        begin_size: int,
        end_size: int,
    ) -> None:
        self.traced = traced
        self.stack_kind = stack_kind
        self.kinds: dict[int, StackKind] = {}
        self.begin_size = begin_size
        self.end_size = end_size
        self.sentinel_sizes = frozenset({begin_size, end_size})
        self.live: dict[int, int] = {}
        self.live_bytes = 0
        self.peak_live_bytes = 0
        self.records = 0
        self.loop_tid = -1  # the thread of the sentinels, learned from the first one
        self.other_thread_bytes = 0
        self.done: list[MessageHeap] = []
        self.timeline: list[tuple[int, int]] = []

    def kind(self, record: AllocationRecord) -> StackKind:
        kind = self.kinds.get(record.stack_id)
        if kind is None:
            kind = self.kinds[record.stack_id] = self.stack_kind(record)
        return kind

    def unmap(self, address: int, size: int) -> int:
        """Bytes a munmap releases; the unmapped front of a mapping leaves the rest live."""
        mapped = self.live.pop(address, 0)
        if 0 < size < mapped:
            self.live[address + size] = mapped - size
            return size
        return mapped

    def outside(self, records: Iterator[AllocationRecord]) -> bool:
        """Follow the live heap up to the next begin sentinel; False at the end."""
        live, pop = self.live, self.live.pop
        live_bytes, peak, count = self.live_bytes, self.peak_live_bytes, 0
        end_size, sentinel_sizes = self.end_size, self.sentinel_sizes
        loop_tid, other = self.loop_tid, 0
        found = False
        for record in records:
            count += 1
            allocator = record.allocator
            if allocator in _FREE_CODES:
                live_bytes -= pop(record.address, 0)
            elif allocator == UNMAP:
                live_bytes -= self.unmap(record.address, record.size)
            else:
                size = record.size
                if size in sentinel_sizes:
                    kind = self.kind(record)
                    if kind is StackKind.SENTINEL and size == end_size:
                        raise CaptureMismatch("an end sentinel outside a message")
                    if kind is StackKind.SENTINEL:
                        self.loop_tid = record.tid
                        found = True
                        break
                live[record.address] = size
                live_bytes += size
                if live_bytes > peak:
                    peak = live_bytes
                if loop_tid != -1 and record.tid != loop_tid:
                    other += size
        self.live_bytes, self.peak_live_bytes = live_bytes, peak
        self.other_thread_bytes += other
        self.records += count
        return found

    def inside(self, records: Iterator[AllocationRecord]) -> None:
        """Follow one message up to its end sentinel."""
        if len(self.done) >= len(self.traced):
            raise CaptureMismatch(f"more begin sentinels than the {len(self.traced)} traced")
        traced = self.traced[len(self.done)]
        message = MessageHeap(traced.frame_index, traced.payload_bytes)
        live, pop, kinds = self.live, self.live.pop, self.kinds
        own: dict[int, int] = {}
        own_pop, own_native = own.pop, set()
        live_bytes, peak, count = self.live_bytes, self.peak_live_bytes, 0
        own_live = own_peak = own_native_live = allocated = allocations = native_allocated = 0
        loop_tid, other_thread = self.loop_tid, 0
        handler, unstacked = StackKind.HANDLER, StackKind.UNSTACKED
        begin_size, sentinel_sizes, ended = self.begin_size, self.sentinel_sizes, False
        for record in records:
            count += 1
            allocator = record.allocator
            if allocator in _FREE_CODES or allocator == UNMAP:
                address = record.address
                if allocator == UNMAP:
                    size = self.unmap(address, record.size)
                    rest = address + record.size
                    if address in own and rest in live:  # the front of its own mapping
                        own[rest] = live[rest]
                        if address in own_native:
                            own_native.add(rest)
                else:
                    size = pop(address, 0)
                live_bytes -= size
                if own_pop(address, None) is not None:
                    own_live -= size
                    if address in own_native:
                        own_native.discard(address)
                        own_native_live -= size
                continue
            size = record.size
            kind = kinds.get(record.stack_id)
            if kind is None:
                kind = self.kind(record)
            if kind is StackKind.SENTINEL and size in sentinel_sizes:
                if size == begin_size:
                    raise CaptureMismatch("a begin sentinel inside a message")
                ended = True
                break
            address = record.address
            live[address] = size
            live_bytes += size
            if live_bytes > peak:
                peak = live_bytes
            if record.tid != loop_tid:
                other_thread += size
            elif kind is not handler and kind is not unstacked:
                continue
            allocated += size
            allocations += 1
            own[address] = size
            own_live += size
            if own_live > own_peak:
                own_peak = own_live
            if allocator not in _PYTHON_CODES:
                native_allocated += size
                own_native.add(address)
                own_native_live += size
        if not ended:
            raise CaptureCut("a message without its end sentinel")
        message.allocated_bytes, message.allocations = allocated, allocations
        message.peak_bytes, message.retained_bytes = own_peak, own_live
        message.native_allocated_bytes = native_allocated
        message.native_retained_bytes = own_native_live
        message.other_thread_bytes = other_thread
        self.done.append(message)
        self.timeline.append((message.frame_index, live_bytes))
        self.live_bytes, self.peak_live_bytes = live_bytes, peak
        self.records += count


def analyse_records(
    records: Iterable[AllocationRecord],
    traced: Sequence[TracedMessage],
    stack_kind: Callable[[AllocationRecord], StackKind],
    *,
    begin_size: int,
    end_size: int,
    may_end_early: bool = False,
) -> CaptureAnalysis:
    """Per-message heap figures for `traced` (in loop order) from records in file order.

    `stack_kind` classifies a record by its Python stack; it is asked once per stack id.
    `may_end_early`: the writer stopped before the loop did (a full disk), so the figures
    are those of the messages the capture holds whole.
    """
    split = _Split(traced, stack_kind, begin_size, end_size)
    stream = iter(records)
    try:
        while split.outside(stream):
            split.inside(stream)
    except CaptureCut:
        if not may_end_early:
            raise
    if len(split.done) != len(traced) and not may_end_early:
        raise CaptureMismatch(
            f"the capture holds {len(split.done)} complete messages, the loop traced {len(traced)}"
        )
    return CaptureAnalysis(
        split.done, split.peak_live_bytes, split.timeline, split.records, split.other_thread_bytes
    )
