"""Sharded replay against a live target: one `treasure serve` on a Unix socket, its
sessions split between shards on a local Dask cluster, merged exactly."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.test_cluster import pooled_histogram_of, write_recording

from treasure import cluster
from treasure.cluster import run_sharded
from treasure.probes.latency import bucket_counts, decode_histogram
from treasure.recordings import open_recording
from treasure.results import ReplayConfig, RunResult, load
from treasure.shards import Shard, select

pytestmark = pytest.mark.integration
USERS = 24
FRAMES = USERS * (USERS + 1) // 2
WARMUP = 10


@pytest.fixture
def router(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`treasure serve pyyaml-dom` on a Unix socket in tmp: (its address, its pid)."""
    socket_path = tmp_path / "router.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "treasure.cli", "serve", "pyyaml-dom", "--unix", str(socket_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line == f"listening on unix:{socket_path}", process.communicate()
    yield f"unix:{socket_path}", process.pid
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)


def sent_bytes(recording: Path, shard: Shard) -> int:
    """The payload bytes of the shard's measured frames: what it must have sent."""
    with open_recording(recording) as reader:
        return sum(len(f.payload) for f in select(reader, shard) if f.index >= WARMUP)


@pytest.mark.parametrize("count", [3])
def test_shards_of_a_replay_against_one_live_target_merge_exactly(
    tmp_path: Path, router: tuple[str, int], count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster, "START_MARGIN_S", 3.0)
    address, pid = router
    recording = write_recording(tmp_path / "r.trec", [f"user-{k}" for k in range(USERS)])
    config = ReplayConfig(
        backend="pyyaml-dom", recording=str(recording), warmup=WARMUP, shards=count,
        target=address, target_pid=pid, pace="rate:600/s",
    )  # fmt: skip

    merged = run_sharded(config, tmp_path / "run.artefacts")

    shards = tmp_path / "run.artefacts/shards"
    parts = [load(shards / f"shard-{i}-of-{count}.json") for i in range(count)]
    runs = [part for part in parts if isinstance(part, RunResult)]
    assert len(runs) == count
    for index, run in enumerate(runs):  # each shard sent its own sessions' frames, once
        assert run.shard is not None
        assert run.target is not None
        assert run.shard.pace == f"rate:{600 / count:g}/s"
        assert run.shard.offset_ns == round(index * 1e9 / 600)  # staggered: i/R
        assert run.messages == run.target.sent == run.target.routed == run.shard.measured_frames
        assert run.recording.payload_bytes_measured == sent_bytes(recording, Shard(index, count))
        assert run.target.process is not None
        assert run.target.process.pid == pid
    assert merged.messages == sum(run.messages for run in runs) == FRAMES - WARMUP
    assert merged.errors == {}
    assert merged.latency is not None
    assert merged.latency.corrected is not None
    assert bucket_counts(decode_histogram(merged.latency.hdr)) == pooled_histogram_of(runs)
    assert merged.latency.uncorrected.max == max(
        run.latency.uncorrected.max for run in runs if run.latency is not None
    )
    assert merged.shards is not None
    assert [run.target_rss_peak_bytes is not None for run in merged.shards.runs] == [True] * count
    assert all(run.lateness_ns is not None for run in merged.shards.runs)
