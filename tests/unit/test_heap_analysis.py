"""Splitting allocation records into messages, on fake records built by hand."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from memray import AllocatorType
from tests.groundtruth.native import build_library

from treasure.parsers import available_names, create
from treasure.passes.heap import TracePlan, run_heap_pass
from treasure.probes._heap_libraries import (
    imported_symbols,
    invisible_libraries,
    mapped_libraries,
    private_allocator,
)
from treasure.probes._heap_records import (
    CaptureMismatch,
    MessageHeap,
    StackKind,
    TracedMessage,
    analyse_records,
)
from treasure.probes.heap import blind_spot
from treasure.results import ReplayConfig

BEGIN, END = 1001, 1003
HANDLER_STACK, SENTINEL_STACK, HARNESS_STACK = 1, 2, 3
KINDS = {
    HANDLER_STACK: StackKind.HANDLER,
    SENTINEL_STACK: StackKind.SENTINEL,
    HARNESS_STACK: StackKind.HARNESS,
}


@dataclass(frozen=True)
class FakeRecord:
    address: int
    size: int
    allocator: int
    stack_id: int = HANDLER_STACK
    tid: int = 1


def alloc(address: int, size: int, stack: int = HANDLER_STACK) -> FakeRecord:
    return FakeRecord(address, size, AllocatorType.MALLOC, stack)


def pyalloc(address: int, size: int) -> FakeRecord:
    return FakeRecord(address, size, AllocatorType.PYMALLOC_MALLOC)


def free(address: int) -> FakeRecord:
    return FakeRecord(address, 0, AllocatorType.FREE, 0)


def begin(address: int = 9000) -> list[FakeRecord]:
    return [
        FakeRecord(address, BEGIN, AllocatorType.PYMALLOC_MALLOC, SENTINEL_STACK),
        free(address),
    ]


def end(address: int = 9000) -> list[FakeRecord]:
    return [FakeRecord(address, END, AllocatorType.PYMALLOC_MALLOC, SENTINEL_STACK), free(address)]


def analyse(records: list[FakeRecord], messages: int = 1) -> list[MessageHeap]:
    traced = [TracedMessage(frame_index=i, payload_bytes=100) for i in range(messages)]
    analysis = analyse_records(
        records, traced, lambda record: KINDS[record.stack_id], begin_size=BEGIN, end_size=END
    )
    return analysis.messages


def test_message_figures_follow_allocations_and_frees() -> None:
    # given a message that allocates 100 and 50 natively, frees the 100, makes 30 in Python
    records = [*begin(), alloc(1, 100), alloc(2, 50), free(1), pyalloc(3, 30), *end()]
    # when the records are analysed
    (message,) = analyse(records)
    # then allocated counts all, peak is the high-water mark, retained what is still live
    assert message.allocated_bytes == 180
    assert message.allocations == 3
    assert message.peak_bytes == 150
    assert message.retained_bytes == 80
    assert message.native_allocated_bytes == 150
    assert message.native_retained_bytes == 50


def test_harness_allocations_inside_a_message_are_not_counted() -> None:
    # given the replay loop allocating between the sentinels, beside the handler
    records = [*begin(), alloc(1, 500, HARNESS_STACK), alloc(2, 40), *end()]
    # when the records are analysed
    (message,) = analyse(records)
    # then only the handler's block counts
    assert (message.allocated_bytes, message.allocations, message.retained_bytes) == (40, 1, 40)


def test_freeing_older_memory_never_makes_a_message_cheaper() -> None:
    # given a message that frees a block allocated before it, then allocates 64
    records = [alloc(1, 1000), *begin(), free(1), alloc(2, 64), *end()]
    # when the records are analysed
    (message,) = analyse(records)
    # then the message's peak and retained are its own 64 bytes, not 64 - 1000
    assert (message.peak_bytes, message.retained_bytes) == (64, 64)


def test_realloc_is_a_free_then_an_allocation() -> None:
    # given a block grown by realloc inside the message: FREE(old) then REALLOC(new)
    records = [
        *begin(),
        alloc(1, 100),
        free(1),
        FakeRecord(2, 300, AllocatorType.REALLOC),
        *end(),
    ]
    # when the records are analysed
    (message,) = analyse(records)
    # then both sizes were allocated, but only the new block is live
    assert (message.allocated_bytes, message.peak_bytes, message.retained_bytes) == (400, 300, 300)


def test_sentinel_sized_block_from_the_handler_is_an_ordinary_allocation() -> None:
    # given a backend that happens to allocate a block of the begin sentinel's size
    records = [*begin(), alloc(1, BEGIN), *end()]
    # when the records are analysed
    (message,) = analyse(records)
    # then it counts as the message's allocation, not as a boundary
    assert message.allocated_bytes == BEGIN


def test_run_peak_and_timeline_include_state_outside_messages() -> None:
    # given state kept between two traced messages
    records = [*begin(), alloc(1, 10), *end(), alloc(2, 5000, HARNESS_STACK)]
    records += [*begin(9001), alloc(3, 20), free(3), *end(9001)]
    traced = [TracedMessage(7, 100), TracedMessage(9, 100)]
    # when the records are analysed
    analysis = analyse_records(
        records, traced, lambda record: KINDS[record.stack_id], begin_size=BEGIN, end_size=END
    )
    # then the run's live heap counts the state, sentinels never
    assert analysis.peak_live_bytes == 5030
    assert analysis.timeline == [(7, 10), (9, 5010)]


def test_munmap_of_part_of_a_mapping_keeps_the_rest_live() -> None:
    # given a 4-page mapping whose first page is unmapped inside the message
    records = [
        *begin(),
        FakeRecord(0x10000, 16384, AllocatorType.MMAP),
        FakeRecord(0x10000, 4096, AllocatorType.MUNMAP, 0),
        *end(),
    ]
    # when the records are analysed
    (message,) = analyse(records)
    # then three pages stay live
    assert (message.retained_bytes, message.native_retained_bytes) == (12288, 12288)


@pytest.mark.parametrize(
    ("records", "traced"),
    [
        ([*begin(), alloc(1, 10)], 1),  # no end sentinel
        ([*end()], 1),  # end without begin
        ([*begin(), *begin(9001)], 1),  # begin inside a message
        ([*begin(), *end()], 2),  # fewer messages than traced
        ([*begin(), *end(), *begin(), *end()], 1),  # more messages than traced
    ],
)
def test_sentinels_that_do_not_match_the_loop_are_an_error(
    records: list[FakeRecord], traced: int
) -> None:
    # given a capture whose sentinels disagree with the traced messages
    # when it is analysed, then it is refused rather than mis-split
    with pytest.raises(CaptureMismatch):
        analyse(records, traced)


def heap(allocated: int, allocations: int = 1) -> MessageHeap:
    return MessageHeap(
        0, 100, allocated_bytes=allocated, allocations=allocations, peak_bytes=allocated
    )


def test_blind_spot_when_memray_saw_nothing_at_all_but_the_kernel_did() -> None:
    # given traced messages in which memray saw no allocation, each faulting in 2 pages
    messages = [heap(0, allocations=0) for _ in range(20)]
    # when the blind spot check runs, then it says why
    assert "no allocation" in blind_spot(messages, [2] * 20)


def test_no_blind_spot_for_a_backend_that_allocates_nothing() -> None:
    # given traced messages with no allocation and no fresh page: a no-op backend
    messages = [heap(0, allocations=0) for _ in range(20)]
    # when the blind spot check runs, then 0 B stands as the figure
    assert blind_spot(messages, [0] * 20) == ""


def test_blind_spot_when_the_kernel_saw_far_more_fresh_pages() -> None:
    # given 256 fresh pages per message and only 500 bytes seen by memray
    messages = [heap(500) for _ in range(20)]
    # when the blind spot check runs, then the kernel's witness is quoted
    assert "fresh pages" in blind_spot(messages, [256] * 20)


def test_no_blind_spot_when_faults_are_explained_by_allocations() -> None:
    # given 64 KiB seen allocated per message and 16 pages faulted in
    messages = [heap(65536) for _ in range(20)]
    # when the blind spot check runs, then memray's view stands
    assert blind_spot(messages, [16] * 20) == ""


@pytest.mark.parametrize(
    ("measured", "messages", "method", "count"),
    [
        (12000, 3000, "seeded random sample", 3000),
        (100, 2000, "every message", 100),
        (10, 3, "seeded random sample", 3),
        (0, 5, "every message", 0),
    ],
)
def test_trace_plan_draws_its_sample_over_the_whole_run(
    measured: int, messages: int, method: str, count: int
) -> None:
    # given how many messages the pass measures and how many may be traced
    plan = TracePlan(measured, messages)
    positions = list(plan.positions())
    # then that many distinct messages are traced, ascending, never more than asked
    assert (plan.method, plan.count, len(positions)) == (method, count, count)
    assert positions == sorted(set(positions))
    assert all(0 <= position < measured for position in positions)


def test_trace_plan_is_the_same_for_the_same_seed_and_not_a_stride() -> None:
    # given two plans with one seed and one with another
    first, again, other = TracePlan(8000, 2000), TracePlan(8000, 2000), TracePlan(8000, 2000, 7)
    # then the same seed draws the same messages, another seed others
    assert list(first.positions()) == list(again.positions())
    assert list(first.positions()) != list(other.positions())
    # and the gaps between traced messages vary (a stride would alias a periodic backend)
    positions = list(first.positions())
    assert len({b - a for a, b in itertools.pairwise(positions)}) > 5


def test_declared_not_measurable_backend_is_reported_with_its_reason(tmp_path: Path) -> None:
    # given a backend that declares its heap cannot be traced
    config = ReplayConfig(backend="tests.groundtruth.native:DeclaredInvisible", recording="-")
    # when the heap pass runs
    summary = run_heap_pass(config, [], messages=10, artefact_dir=tmp_path, total_frames=0)
    # then it is not measurable, with the backend's reason and no figure
    assert not summary.measurable
    assert summary.reason == "links its own allocator statically"
    assert summary.allocated_bytes is None


def test_a_library_with_its_own_arena_is_found_by_its_imports() -> None:
    # given a C library that carves allocations out of pages it maps itself, and one that
    # uses malloc
    arena, plain = build_library("gt_arena"), build_library("gt_alloc")
    # when their dynamic imports are read
    arena_imports, plain_imports = imported_symbols(arena), imported_symbols(plain)
    # then the arena maps pages without any allocator memray hooks; the other is visible
    assert arena_imports is not None
    assert plain_imports is not None
    assert "mmap" in arena_imports
    assert "malloc" in plain_imports
    assert private_allocator(arena)
    assert not private_allocator(plain)


def test_no_library_of_the_registered_backends_hides_its_heap() -> None:
    # given every available registered backend started in this process
    for name in available_names():
        create(name)
    # when the process's libraries are checked, then none hands out memory of its own
    assert invisible_libraries(mapped_libraries(), frozenset()) == []


def test_a_file_that_is_not_elf_says_nothing(tmp_path: Path) -> None:
    # given a file that is no shared library
    path = tmp_path / "not-a-library.so"
    path.write_bytes(b"#!/bin/sh\n")
    # then no imports are claimed and it is not taken for an allocator
    assert imported_symbols(path) is None
    assert not private_allocator(path)
