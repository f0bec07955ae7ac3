"""The heap capture's disk budget as data: the default, the option's checks, and a capture
whose writer stopped early read back as the messages it holds whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_heap_analysis import BEGIN, END, KINDS, FakeRecord, alloc, begin, end

from treasure.disk_budget import DEFAULT_CAPTURE_BUDGET, default_budget, parse_capture_budget
from treasure.errors import ConfigError
from treasure.probes._heap_records import CaptureMismatch, TracedMessage, analyse_records
from treasure.results import ReplayConfig

GiB = 1024**3


@pytest.mark.parametrize(
    ("free", "budget"),
    [
        (100 * GiB, DEFAULT_CAPTURE_BUDGET),  # a roomy disk: the 2 GiB default
        (4 * GiB, 2 * GiB),  # exactly twice the default: still the default
        (3 * GiB, 3 * GiB // 2),  # less: half of what is free
        (10 * 1024**2, 5 * 1024**2),
    ],
)
def test_the_default_budget_is_2_gib_or_half_the_free_space(free: int, budget: int) -> None:
    # given the free space where the capture goes, when the default is chosen
    chosen = default_budget(free, Path("/runs"))
    # then it is the smaller of 2 GiB and half the free space, and says which
    assert chosen.budget_bytes == budget
    assert ("half of" in chosen.chosen) is (budget < DEFAULT_CAPTURE_BUDGET)
    assert chosen.stopped == ""


@pytest.mark.parametrize(("written", "size"), [("64 MiB", 64 * 1024**2), ("1 GB", 10**9)])
def test_a_written_budget_is_read_in_bytes(written: str, size: int) -> None:
    assert parse_capture_budget(written) == size
    config = ReplayConfig(backend="b", recording="r", capture_budget=written)
    assert config.capture_budget == written


@pytest.mark.parametrize("written", ["0 B", "0", "-1 MiB", "12", "lots", "1e999 GB", "5 parsecs"])
def test_a_budget_that_is_no_size_above_0_is_refused(written: str) -> None:
    # when a config is built with it, then it is refused naming the field
    with pytest.raises(ConfigError) as refused:
        ReplayConfig(backend="b", recording="r", capture_budget=written)
    assert refused.value.field == "capture_budget"


def _traced(count: int) -> list[TracedMessage]:
    return [TracedMessage(frame_index=i, payload_bytes=100) for i in range(count)]


def _cut_capture() -> list[FakeRecord]:
    """Two whole messages, then a third whose records stop before its end sentinel."""
    return [
        *begin(), alloc(1, 100), *end(),
        *begin(), alloc(2, 200), *end(),
        *begin(), alloc(3, 300),
    ]  # fmt: skip


def test_a_capture_cut_by_a_full_disk_gives_the_messages_it_holds_whole() -> None:
    # given a capture whose writer stopped inside the third of four traced messages
    records = _cut_capture()
    # when it is analysed as one that may end early
    analysis = analyse_records(
        records, _traced(4), lambda r: KINDS[r.stack_id], begin_size=BEGIN, end_size=END,
        may_end_early=True,
    )  # fmt: skip
    # then the two whole messages keep their figures and the cut one is left out
    assert [m.allocated_bytes for m in analysis.messages] == [100, 200]


def test_a_cut_capture_is_still_an_error_when_nothing_stopped_its_writer() -> None:
    with pytest.raises(CaptureMismatch):
        analyse_records(
            _cut_capture(), _traced(4), lambda r: KINDS[r.stack_id], begin_size=BEGIN,
            end_size=END,
        )  # fmt: skip
