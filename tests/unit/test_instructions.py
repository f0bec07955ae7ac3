"""The perf_event_open counter: opened by the real syscall, it counts what it brackets.

Hardware instruction counters are often absent (virtual machines): the software task clock,
which every Linux kernel with perf events has, proves the same open / start / stop / read
path on any machine; the refusal's wording is checked for the errnos that say why not."""

from __future__ import annotations

import errno
import sys
import time

import pytest

from treasure.probes.instructions import Event, open_counter, paranoid_setting, refusal

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="perf_event_open is Linux's")


def spin_cpu(ns: int) -> None:
    """Run on this thread's CPU for `ns` (however long preemption makes it in wall time)."""
    deadline = time.thread_time_ns() + ns
    while time.thread_time_ns() < deadline:
        pass


def test_the_task_clock_counts_the_cpu_time_it_brackets() -> None:
    counter, why = open_counter(Event.TASK_CLOCK)
    if counter is None:
        pytest.skip(why)
    try:
        counted = []
        for spend in (2_000_000, 4_000_000):
            counter.start()
            spin_cpu(spend)
            counted.append(counter.stop())
        assert counted[0] == pytest.approx(2_000_000, rel=0.05)
        assert counted[1] == pytest.approx(4_000_000, rel=0.05)
        counter.start()  # reset on start: nothing carried over from before
        assert counter.stop() < 1_000_000
    finally:
        counter.close()


def test_a_counter_refused_says_which_errno_and_the_paranoid_setting() -> None:
    said = refusal(Event.INSTRUCTIONS, errno.ENOENT)
    assert said.startswith("perf_event_open(PERF_COUNT_HW_INSTRUCTIONS) failed with ENOENT: ")
    assert "no such hardware counter" in said
    assert said.endswith(f"kernel.perf_event_paranoid = {paranoid_setting()}")
    assert "denied" in refusal(Event.INSTRUCTIONS, errno.EACCES)
    assert "failed with EMFILE: Too many open files" in refusal(Event.INSTRUCTIONS, errno.EMFILE)
