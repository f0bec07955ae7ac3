"""The perf_event_open counter: opened by the real syscall, it counts what it brackets.

Hardware instruction counters are often absent (virtual machines): the software page-fault
counter, which every Linux kernel with perf events has, proves the same open / start / stop
/ read path on any machine, on an exactly known count; the refusal's wording is checked for
the errnos that say why not."""

from __future__ import annotations

import errno
import mmap
import sys

import pytest

from treasure.probes.instructions import Event, open_counter, paranoid_setting, refusal

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="perf_event_open is Linux's")
PAGE = mmap.PAGESIZE


def touch_new_pages(pages: int) -> None:
    """Write one byte into each of `pages` pages never touched before: one fault each."""
    memory = mmap.mmap(-1, pages * PAGE)
    memory.madvise(mmap.MADV_NOHUGEPAGE)  # a huge page would take 512 writes in one fault
    for offset in range(0, pages * PAGE, PAGE):
        memory[offset] = 1
    memory.close()


def test_a_counter_counts_exactly_what_it_brackets() -> None:
    # given the software page-fault counter (every kernel with perf events has it), a count
    # as deterministic as instructions are on hardware that counts them
    counter, why = open_counter(Event.PAGE_FAULTS)
    if counter is None:
        pytest.skip(why)
    try:
        counted = []
        for pages in (1000, 2000):
            counter.start()
            touch_new_pages(pages)
            counted.append(counter.stop())
        # then each bracket holds its faults, and a few of the interpreter's at most
        assert 1000 <= counted[0] <= 1000 + 20
        assert 2000 <= counted[1] <= 2000 + 20
        counter.start()  # reset on start: nothing carried over from before
        assert counter.stop() < 20
    finally:
        counter.close()


def test_a_counter_refused_says_which_errno_and_the_paranoid_setting() -> None:
    said = refusal(Event.INSTRUCTIONS, errno.ENOENT)
    assert said.startswith("perf_event_open(PERF_COUNT_HW_INSTRUCTIONS) failed with ENOENT: ")
    assert "no such hardware counter" in said
    assert said.endswith(f"kernel.perf_event_paranoid = {paranoid_setting()}")
    assert "denied" in refusal(Event.INSTRUCTIONS, errno.EACCES)
    assert "failed with EMFILE: Too many open files" in refusal(Event.INSTRUCTIONS, errno.EMFILE)
