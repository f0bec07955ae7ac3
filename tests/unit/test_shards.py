"""The shard plan: N shards replay every frame exactly once, a user's frames together and
in order, and every machine agrees on the split."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from itertools import islice
from pathlib import Path

import pytest

from treasure.errors import ConfigError
from treasure.pacing import Pacer
from treasure.passes.soak import looped_frames
from treasure.recording_format import Frame
from treasure.recordings import RecordingWriter, open_recording
from treasure.results import ReplayConfig
from treasure.shards import (
    JOB_INDEX_VARIABLE,
    Shard,
    align,
    parse_start_at,
    plan_of,
    select,
    shard_of,
    window_end,
)


def unequal_sessions(seed: int) -> list[Frame]:
    """One user with hundreds of frames, a few with tens, many with one, interleaved."""
    sizes = [400, 60, 25, *([3] * 20), *([1] * 150)]
    owners = [f"user-{seed}-{n}" for n, size in enumerate(sizes) for _ in range(size)]
    order = sorted(range(len(owners)), key=lambda i: (i * 7919 + seed) % len(owners))
    return [
        Frame(index=i, timestamp_ns=i * 1000, user_id=owners[k], payload=b"m%d" % k)
        for i, k in enumerate(order)
    ]


RECORDINGS = [unequal_sessions(seed) for seed in (1, 2)] + [
    [Frame(i, i, f"p-{i % 9}", b"x") for i in range(100)],  # few users, round-robin
    [Frame(i, i, "only-one", b"y") for i in range(50)],  # a single session
]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("frames", RECORDINGS, ids=["unequal-1", "unequal-2", "nine", "one"])
def test_the_shards_replay_every_frame_exactly_once(frames: list[Frame], count: int) -> None:
    replayed = [list(select(frames, Shard(index, count))) for index in range(count)]

    assert Counter(frame.index for part in replayed for frame in part) == Counter(
        frame.index for frame in frames
    )
    for part in replayed:  # recording order within a shard: a session's order is kept
        assert [frame.index for frame in part] == sorted(frame.index for frame in part)
    owners = {frame.user_id: n for n, part in enumerate(replayed) for frame in part}
    for n, part in enumerate(replayed):  # each user's frames all in one shard
        assert {owners[frame.user_id] for frame in part} <= {n}


def test_a_limit_splits_the_window_the_whole_run_measures() -> None:
    frames = RECORDINGS[0]
    end = window_end(warmup=10, limit=100)

    replayed = [f.index for n in range(3) for f in select(frames, Shard(n, 3), end)]

    assert sorted(replayed) == list(range(110))


def test_the_plans_counts_add_up_to_the_recording_and_agree_on_its_content() -> None:
    frames = RECORDINGS[0]
    plans = [plan_of(frames, Shard(n, 4), 50, None, "rate:1000/s") for n in range(4)]

    assert sum(plan.frames for plan in plans) == len(frames)
    assert sum(plan.measured_frames for plan in plans) == len(frames) - 50
    assert sum(plan.users for plan in plans) == len({frame.user_id for frame in frames})
    assert {plan.recording_frames for plan in plans} == {len(frames)}
    assert len({plan.recording_digest for plan in plans}) == 1
    assert {plan.pace for plan in plans} == {"rate:250/s"}
    other = [*frames[:-1], Frame(frames[-1].index, 0, frames[-1].user_id, b"changed")]
    assert plan_of(other, Shard(0, 4), 50, None, "max").recording_digest != (
        plans[0].recording_digest
    )


def test_the_split_is_the_same_in_every_process() -> None:
    """Python's own hash of a str changes with PYTHONHASHSEED; the plan's must not."""
    users = [f"player-{n}" for n in range(200)]
    script = (
        "import sys; from treasure.shards import shard_of; "
        "print(','.join(str(shard_of(u, 5)) for u in sys.argv[1:]))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script, *users],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip

    assert seen == {",".join(str(shard_of(user, 5)) for user in users)}
    assert len(set(next(iter(seen)).split(","))) == 5  # every shard gets users


def test_a_shard_of_a_real_recording(tmp_path: Path) -> None:
    path = tmp_path / "r.trec"
    with RecordingWriter(path, metadata={"scenario": "unit", "users": 40}) as writer:
        for n in range(300):
            writer.write(n * 1000, f"u{n % 40}", b"event %d" % n)
    parts = []
    for index in range(3):
        with open_recording(path) as reader:
            parts.append([frame.index for frame in select(reader, Shard(index, 3))])

    assert sorted(i for part in parts for i in part) == list(range(300))
    assert all(parts)


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("0/1", {}, Shard(0, 1)),
        ("3/4", {}, Shard(3, 4)),
        ("auto/4", {JOB_INDEX_VARIABLE: "2"}, Shard(2, 4)),
    ],
)
def test_shards_are_parsed(text: str, environ: dict[str, str], expected: Shard) -> None:
    assert Shard.parse(text, environ) == expected


@pytest.mark.parametrize(
    ("text", "environ", "said"),
    [
        ("4/4", {}, "0 ≤ i < N"),
        ("1/0", {}, "0 ≤ i < N"),
        ("-1/4", {}, "is not i/N"),
        ("2", {}, "is not i/N"),
        ("auto/4", {}, "JOB_COMPLETION_INDEX, which is not set"),
        ("auto/4", {JOB_INDEX_VARIABLE: "x"}, "not a whole number"),
        ("auto/4", {JOB_INDEX_VARIABLE: "4"}, "0 ≤ i < N"),
    ],
)
def test_bad_shards_say_why(text: str, environ: dict[str, str], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        Shard.parse(text, environ)


def test_the_config_stores_an_automatic_shard_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JOB_INDEX_VARIABLE, "1")

    assert ReplayConfig(backend="b", recording="r", shard="auto/3").shard == "1/3"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"shard": "1/2", "shards": 2}, "shards"),
        ({"cluster": "tcp://127.0.0.1:8786"}, "cluster"),
        ({"shards": 2, "cluster": "10.0.0.1:8786"}, "cluster"),
        ({"shards": -1}, "shards"),
        ({"shard": "9/2"}, "shard"),
        ({"shards": 2, "target": "unix:/tmp/t.sock", "spawn": "./router"}, "spawn"),
        ({"shard": "0/2", "target": "unix:/tmp/t.sock", "pace": "ramp:10..100/s:5s"}, "pace"),
        ({"start_at": "1767250800"}, "start_at"),
        ({"shards": 2, "start_at": "1767250800"}, "start_at"),
        ({"shard": "0/2", "start_at": "tomorrow"}, "start_at"),
    ],
)
def test_the_config_refuses_sharding_it_cannot_run(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as refused:
        ReplayConfig(backend="b", recording="r", **options)  # type: ignore[arg-type]

    assert refused.value.field == field


@pytest.mark.parametrize(("pace", "shard_pace"), [
    ("rate:1000/s", "rate:250/s"), ("rate:10", "rate:2.5/s"), ("original:2", "original:2"),
    ("max", "max"),
])  # fmt: skip
def test_a_rate_is_split_between_the_shards(pace: str, shard_pace: str) -> None:
    assert Shard(0, 4).pace(pace) == shard_pace


def intended_sends(frames: list[Frame], pace: str, count: int, warmup: int = 0) -> list[int]:
    """Every shard's intended send times (ns after one shared start), pooled and sorted."""
    times: list[int] = []
    for index in range(count):
        shard = Shard(index, count)
        plan = plan_of(frames, shard, warmup, None, pace)
        pacer = Pacer.parse(plan.pace)
        pacer.start_ns = 0  # the shared start
        align(pacer, plan)
        measured = [frame for frame in select(frames, shard) if frame.index >= warmup]
        times += [pacer.intended(k, frame.timestamp_ns) for k, frame in enumerate(measured)]
    return sorted(times)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_staggered_shards_send_together_on_the_unsharded_rate(count: int) -> None:
    users = one_user_per_shard(count)  # so that the shards send equally many messages
    frames = [Frame(i, i * 1000, users[i % count], b"x") for i in range(12 * count)]
    rate = 1000.0 * count

    union = intended_sends(frames, f"rate:{rate:g}/s", count)

    # shard i at rate/N from i/R: one send every 1/R, never two at once (no lockstep burst)
    assert union == [round(j * 1e9 / rate) for j in range(len(frames))]
    assert [Shard(i, count).offset_ns("rate:1000/s") for i in range(count)] == [
        i * 1_000_000 for i in range(count)
    ]


def one_user_per_shard(count: int) -> list[str]:
    found: dict[int, str] = {}
    for n in range(1000):
        found.setdefault(shard_of(f"u{n}", count), f"u{n}")
    return [found[index] for index in range(count)]


@pytest.mark.parametrize("pace", ["original", "original:4"])
def test_under_the_recorded_times_the_shards_keep_the_recordings_schedule(pace: str) -> None:
    frames = unequal_sessions(3)
    warmup = 10
    speedup = float(pace.partition(":")[2] or 1)
    unsharded = Pacer.parse(pace)
    unsharded.start_ns = 0
    alone = [unsharded.intended(k, frame.timestamp_ns) for k, frame in enumerate(frames[warmup:])]

    union = intended_sends(frames, pace, 4, warmup)

    # every shard counts from the window's first measured frame, not from its own first
    assert union == alone
    assert alone[-1] == int((frames[-1].timestamp_ns - frames[warmup].timestamp_ns) / speedup)


def test_the_plan_records_the_shards_offset_and_the_windows_origin() -> None:
    frames = [Frame(i, 5000 + i * 10, f"p-{i}", b"x") for i in range(20)]

    plans = [plan_of(frames, Shard(i, 4), 3, None, "rate:200/s") for i in range(4)]

    assert [plan.offset_ns for plan in plans] == [0, 5_000_000, 10_000_000, 15_000_000]
    assert {plan.origin_timestamp_ns for plan in plans} == {5030}
    assert plan_of(frames, Shard(1, 4), 3, None, "original").offset_ns == 0


@pytest.mark.parametrize(("text", "epoch_ns"), [
    ("1767250800", 1_767_250_800_000_000_000),
    ("1767250800.25", 1_767_250_800_250_000_000),
    ("2026-01-01T07:00:00Z", 1_767_250_800_000_000_000),
    ("2026-01-01T07:00:00.5+00:00", 1_767_250_800_500_000_000),
    ("2026-01-01T08:00:00+01:00", 1_767_250_800_000_000_000),
    ("2026-01-01T07:00:00", 1_767_250_800_000_000_000),  # no offset: UTC
])  # fmt: skip
def test_a_start_time_is_epoch_seconds_or_iso_8601(text: str, epoch_ns: int) -> None:
    assert parse_start_at(text) == epoch_ns


@pytest.mark.parametrize("text", ["", "soon", "2026-13-01T00:00:00Z", "nan", "12:00"])
def test_a_bad_start_time_says_what_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match="epoch seconds"):
        parse_start_at(text)


def test_a_sharded_run_against_a_target_is_configured() -> None:
    config = ReplayConfig(
        backend="b", recording="r", shard="1/3", target="unix:/tmp/t.sock", pace="rate:300/s",
        start_at="2026-01-01T07:00:00Z",
    )  # fmt: skip

    assert (config.shard, config.served) == ("1/3", True)


def test_a_shard_soaks_its_own_sessions_loop_after_loop(tmp_path: Path) -> None:
    path = tmp_path / "r.trec"
    with RecordingWriter(path, metadata={"scenario": "unit", "users": 40}) as writer:
        for n in range(300):
            writer.write(n * 1000, f"u{n % 40}", b"event %d" % n)
    count, pace = 3, "rate:3000/s"
    sent: list[list[tuple[str, int]]] = []
    for index in range(count):
        shard = Shard(index, count)
        with open_recording(path) as reader:
            plan = plan_of(reader, shard, 0, None, pace)
        pacer = Pacer.parse(plan.pace)
        pacer.start_ns = 0
        align(pacer, plan)
        frames = looped_frames(path, pacer, [0], shard)
        sent.append([(user, intended) for user, _, intended in islice(frames, 2 * plan.frames)])

    for index, part in enumerate(sent):  # its own users only, in every loop (fresh ids)
        assert {user.partition("/")[0] for user, _ in part} == {
            f"u{k}" for k in range(40) if Shard(index, count).owns(f"u{k}")
        }
        assert {user.partition("/")[2] for user, _ in part} == {"", "1"}
    assert sum(len(part) for part in sent) == 2 * 300  # two loops: every frame twice
    first_sends = sorted(part[0][1] for part in sent)
    assert first_sends == [0, 333_333, 666_667]  # staggered by 1/R
