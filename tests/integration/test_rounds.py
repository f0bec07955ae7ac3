"""Interleaved rounds for real: one worker per backend, blocks timed in rotating order, the
ratios' intervals checked against backends whose cost ratio is known, and instructions per
message either counted (scaling with the work) or refused with the reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.groundtruth.timing import Spin200us, Spin300us

from treasure.cli import cli
from treasure.interleaved import InterleavedRounds
from treasure.probes.instructions import open_counter
from treasure.report.units import format_ratio_range
from treasure.results import ReplayConfig, load
from treasure.runner.rounds import FIXED_LAYOUT, fixed_layout, run_rounds

pytestmark = pytest.mark.integration

GROUND = "tests.groundtruth.timing"
# Each message costs its spin plus the call and the clock reads around it (about 0.1-0.3 µs
# here): 2 µs bounds that overhead with room, so the true ratio lies in a known range.
OVERHEAD_NS = 2_000
ADDR_NO_RANDOMIZE = 0x0040000  # the personality flag setarch -R sets


def rounds_of(
    recording: str, backends: dict[str, str], baseline: str, rounds: int = 10
) -> InterleavedRounds:
    template = ReplayConfig(backend="", recording=recording, warmup=5, rounds=rounds)
    configs = [
        (name, msgspec.structs.replace(template, backend=f"{GROUND}:{cls}"))
        for name, cls in backends.items()
    ]
    return run_rounds(configs, baseline)


def test_the_interval_holds_the_known_ratio_of_two_spins(make_recording: MakeRecording) -> None:
    # given backends spinning 2× and 3× 100 µs per message, timed in 30 interleaved rounds
    # (a busy machine can spoil a whole round: the median holds while most rounds are clean)
    recording = make_recording([EVENT_MESSAGE] * 1205)
    spins = {"spin-300us": "Spin300us", "spin-200us": "Spin200us"}
    rounds = rounds_of(str(recording), spins, "spin-300us", rounds=30)
    # then every round timed both, in turn, each going first as often as the other
    assert rounds.failed == {}
    assert rounds.rounds == 30
    assert rounds.messages_per_backend == 1200
    assert [order[0] for order in rounds.orders] == ["spin-300us", "spin-200us"] * 15
    assert [sum(b.messages) for b in rounds.backends] == [1200, 1200]
    assert rounds.address_layout == fixed_layout()[1]
    # and the speed-up of the 2× spin against the 3× is 1.5: median within 2 %, and the
    # 95 % interval reaches the range the true ratio lies in given the per-message overhead
    (ratio,) = rounds.ratios
    assert ratio.backend == "spin-200us"
    assert len(ratio.per_round) == 30
    three, two = Spin300us.spend_ns, Spin200us.spend_ns
    true_low, true_high = three / (two + OVERHEAD_NS), (three + OVERHEAD_NS) / two
    assert ratio.median is not None
    assert ratio.low is not None
    assert ratio.high is not None
    assert ratio.median == pytest.approx(1.5, rel=0.02)
    assert ratio.low <= ratio.median <= ratio.high
    assert ratio.low <= true_high
    assert ratio.high >= true_low
    assert ratio.coverage is not None
    assert 0.95 <= ratio.coverage < 0.96  # ranks 10 and 21 of 30: 95.7 %


def test_a_backend_dying_in_its_rounds_leaves_the_others(make_recording: MakeRecording) -> None:
    # given a backend that kills its process on its first timed message
    recording = make_recording([EVENT_MESSAGE] * 40)
    template = ReplayConfig(backend="", recording=str(recording), warmup=0, rounds=6)
    configs = [
        ("no-op", msgspec.structs.replace(template, backend=f"{GROUND}:NoOp")),
        ("crash", msgspec.structs.replace(template, backend=f"{GROUND}:Crash")),
        ("spin-100us", msgspec.structs.replace(template, backend=f"{GROUND}:Spin100us")),
    ]
    rounds = run_rounds(configs, "spin-100us")
    # then its failure is recorded and the other two still ran every round
    assert set(rounds.failed) == {"crash"}
    assert "signal" in rounds.failed["crash"]
    assert [b.backend for b in rounds.backends] == ["no-op", "spin-100us"]
    assert [len(b.medians_ns) for b in rounds.backends] == [6, 6]
    assert all("crash" not in order for order in rounds.orders[1:])
    (ratio,) = rounds.ratios
    assert ratio.backend == "no-op"
    assert ratio.median is not None
    assert ratio.median > 100


@pytest.mark.skipif(open_counter()[0] is None, reason=open_counter()[1])
def test_instructions_scale_with_the_work(make_recording: MakeRecording) -> None:
    # given two backends whose interpreter work per message is 1× and 2× the same loop
    recording = make_recording([EVENT_MESSAGE] * 66)
    rounds = rounds_of(str(recording), {"work-1x": "Work1x", "work-2x": "Work2x"}, "work-1x")
    one, two = (b.instructions for b in rounds.backends)
    assert one is not None
    assert two is not None
    assert one.available
    assert two.available
    assert one.per_message is not None
    assert two.per_message is not None
    # then the counts are the work's: twice the loop, twice the instructions (within 2 %)
    assert two.per_message / one.per_message == pytest.approx(2.0, rel=0.02)
    assert one.per_message > 2000  # at least one instruction per step of the loop


@pytest.mark.skipif(open_counter()[0] is not None, reason="this machine counts instructions")
def test_instructions_not_counted_say_why(make_recording: MakeRecording) -> None:
    recording = make_recording([EVENT_MESSAGE] * 16)
    rounds = rounds_of(str(recording), {"work-1x": "Work1x"}, "work-1x")
    (backend,) = rounds.backends
    count = backend.instructions
    assert count is not None
    assert not count.available
    assert count.per_message is None  # never 0
    assert count.reason.startswith("not available: perf_event_open(PERF_COUNT_HW_INSTRUCTIONS)")
    assert "failed with E" in count.reason
    assert "perf_event_paranoid = " in count.reason


def test_compare_shows_the_interleaved_ratio_with_its_interval(
    make_recording: MakeRecording, tmp_path: Path
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 40)
    out = tmp_path / "cmp.json"
    backends = f"{GROUND}:NoOp,{GROUND}:Spin100us"
    arguments = ["compare", str(recording), "-b", backends, "--baseline", "spin-100us"]
    arguments += ["--warmup", "4", "--rounds", "6", "--no-heap", "-o", str(out)]
    done = CliRunner().invoke(cli, arguments, env={"COLUMNS": "100"})
    assert done.exit_code == 0, done.output
    rounds = getattr(load(out), "rounds", None)
    assert isinstance(rounds, InterleavedRounds)
    assert rounds.rounds == 6
    (ratio,) = rounds.ratios
    assert ratio.low is not None
    assert ratio.high is not None
    assert "interleaved: 6 rounds over 36 messages" in done.stdout
    rows = [row for row in done.stdout.splitlines() if row.startswith(" no-op ")]
    # speed, interleaved (second: beside the speed table), latency, memory and GC
    assert len(rows) == 4
    assert format_ratio_range(ratio.low, ratio.high) in rows[1]


def test_rounds_zero_runs_none(make_recording: MakeRecording, tmp_path: Path) -> None:
    recording = make_recording([EVENT_MESSAGE] * 20)
    out = tmp_path / "cmp.json"
    arguments = ["compare", str(recording), "-b", f"{GROUND}:NoOp", "--warmup", "2"]
    done = CliRunner().invoke(cli, [*arguments, "--rounds", "0", "--no-heap", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert getattr(load(out), "rounds", "missing") is None
    refused = CliRunner().invoke(cli, [*arguments, "--rounds", "-1"])
    assert refused.exit_code == 2
    assert "--rounds" in refused.output


def test_workers_run_with_a_fixed_address_layout_where_the_machine_allows() -> None:
    prefix, layout = fixed_layout()
    if not prefix:
        assert layout.startswith("randomized: ")
        pytest.skip(layout)
    assert layout == FIXED_LAYOUT
    shown = subprocess.run(
        [*prefix, "cat", "/proc/self/personality"], capture_output=True, text=True, check=True
    )
    assert int(shown.stdout, 16) & ADDR_NO_RANDOMIZE
