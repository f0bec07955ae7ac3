"""Sharded replay for real: a local Dask cluster of worker processes, and the no-engine
path of a Kubernetes Indexed Job (N `treasure replay --shard auto/N` processes)."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import msgspec
import pytest
import yaml
from tests.groundtruth.timing import Spin1ms, Spin200us

from treasure import cluster
from treasure.cluster import ClusterError, dask_distributed, run_sharded
from treasure.merge import ShardResult, merge
from treasure.parsers import Routed
from treasure.probes.latency import bucket_counts, decode_histogram, histogram_of
from treasure.recordings import RecordingWriter, open_recording
from treasure.results import ReplayConfig, RunResult, load
from treasure.shards import JOB_INDEX_VARIABLE, Shard, parse_start_at, select, shard_of

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TREASURE = Path(sys.executable).with_name("treasure")
SPIN_NS = Spin1ms.spend_ns
RATE = 250.0  # the four-shard run's whole rate (messages/s)
BOUND = 1.02  # the merged p50 and p99, to the spin
ENGINE_BOUND = 1.10  # the p99, to the spin, where the same shards without the engine held BOUND
ATTEMPTS = 3
# Busy cores while the four staggered shards measure and nothing else runs: ~0.5 for their
# loops (the pacer's 1 ms spins and the 1 ms ones), ~0.05 for the quieted local cluster
QUIET_CORES = 0.8
# The meter's own wake-ups are work on the same cores, in the process that hosts the local
# cluster's scheduler: sampling every 50 ms, five rounds of benchmarks/shard_spin.py gave
# the cluster's p99 1.198x the spin (1.013-2.859) against 1.018x for the shards without the
# engine; every 0.5 s, 1.057x (1.017-1.152) against 1.040x (1.013-1.286)
METER_S = 0.5


def write_recording(path: Path, users: list[str], gap_ns: int = 1000) -> Path:
    """Sessions of very unequal sizes: user k sends k + 1 messages, interleaved, gap_ns apart."""
    owners = [user for k, user in enumerate(users) for _ in range(k + 1)]
    order = sorted(range(len(owners)), key=lambda i: (i * 7919) % len(owners))
    with RecordingWriter(path, metadata={"scenario": "shards", "users": len(users)}) as writer:
        for n, k in enumerate(order):
            user = owners[k].encode()
            writer.write(n * gap_ns, owners[k], b"event_type: move\nplayer_id: %s\n"
                         b"session_id: s-%s\nseq: %d\n" % (user, user, n))  # fmt: skip
    return path


def expected_digest(path: Path, shard: Shard) -> str:
    """The routed digest of a run that routed exactly the shard's frames, in order."""
    digest = hashlib.sha256()
    with open_recording(path) as reader:
        for frame in select(reader, shard):
            digest.update(frame.index.to_bytes(8, "little"))
    return digest.hexdigest()


def pooled_histogram_of(shards: list[RunResult]) -> list[tuple[int, int]]:
    """Every shard's messages recorded afresh into one histogram, value by value."""
    values: list[int] = []
    for run in shards:
        assert run.latency is not None
        histogram = decode_histogram(run.latency.hdr)
        for index, count in bucket_counts(histogram):
            values += [int(histogram.get_value_from_index(index))] * count
    return bucket_counts(histogram_of(values))


class CpuMeter:
    """The machine's busy cores over time, from /proc/stat sampled every METER_S: whether
    the shards had the two cores to themselves while they measured."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, int, int]] = []  # (epoch ns, busy jiffies, all jiffies)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuMeter:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _sample(self) -> None:
        while not self.stop.wait(METER_S):
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
            idle = fields[3] + fields[4]  # idle, iowait
            self.samples.append((time.time_ns(), sum(fields[:8]) - idle, sum(fields[:8])))

    def busy_cores(self, begin_ns: int, end_ns: int) -> float:
        inside = [sample for sample in self.samples if begin_ns <= sample[0] <= end_ns]
        if len(inside) < 2:
            return float("nan")
        (_, busy0, all0), (_, busy1, all1) = inside[0], inside[-1]
        return (busy1 - busy0) / max(1, all1 - all0) * (os.cpu_count() or 1)


@pytest.fixture
def quick_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "START_MARGIN_S", 3.0)


def sharded_spin(folder: Path, recording: Path, meter: CpuMeter) -> tuple[RunResult, float]:
    """Four shards of `recording` through the 1 ms spin on a fresh local cluster, checked for
    coverage and an exact merge; the merged result and the cores busy while it measured."""
    frames = 48 * 49 // 2
    config = ReplayConfig(
        backend="tests.groundtruth.timing:Spin1ms", recording=str(recording), warmup=0,
        shards=4, pace=f"rate:{RATE:g}/s",
    )  # fmt: skip
    merged = run_sharded(config, folder)
    parts = [load(folder / f"shards/shard-{i}-of-4.json") for i in range(4)]
    runs = [part for part in parts if isinstance(part, RunResult)]
    assert len(runs) == 4
    for index, run in enumerate(runs):  # each shard routed exactly its own frames
        assert run.routed_digest == expected_digest(recording, Shard(index, 4))
        assert run.shard is not None
        assert run.shard.pace == f"rate:{RATE / 4:g}/s"
        assert run.shard.offset_ns == round(index * 1e9 / RATE)  # staggered by 1/R
    assert sum(run.messages for run in runs) == merged.messages == merged.routed_count == frames
    assert merged.latency is not None
    assert bucket_counts(decode_histogram(merged.latency.hdr)) == pooled_histogram_of(runs)
    assert SPIN_NS <= merged.latency.uncorrected.p50 <= SPIN_NS * BOUND
    assert merged.latency.uncorrected.p99 >= SPIN_NS
    assert merged.shards is not None
    assert merged.shards.start_at_ns is not None
    assert all(run.lateness_ns is not None for run in merged.shards.runs)
    assert len({run.host for run in merged.shards.runs}) == 1
    begin = min(run.started_ns for run in merged.shards.runs)
    return merged, meter.busy_cores(begin, begin + merged.duration_ns)


@pytest.mark.usefixtures("quick_start")
def test_four_shards_on_a_local_cluster_cover_every_frame_and_merge_exactly(
    tmp_path: Path,
) -> None:
    # rate:250/s over four shards: each sends at 62.5/s, shard i from i/R after the shared
    # start, so that together they send one message every 4 ms, never two at once. Each
    # message keeps a shard busy ~2 ms (the pacer's last 1 ms spin, the backend's 1 ms):
    # no two shards are busy together. A shard's first instructions after its 16 ms wait
    # run on caches the other shards used: a few µs a message, 0.4 % of the 1 ms spin
    # (+1.5 % of a 200 µs one, measured).
    #
    # The p50 holds its bound in every run. The p99 is the shards' own measure of the
    # spin's tail, not the merge's (that is exact: the bucket equality): anything that
    # preempts 1 % of the spins sets it. Other jobs on the two cores do (1.3x-60x the spin
    # for one process while they kept 1.6-2 cores busy), so does the host under this
    # machine, unseen by /proc/stat (four plain shard processes, no engine, quiet cores:
    # p99 1.01x-4.71x), and so does the engine's own work: each worker's heartbeat twice a
    # second, which no setting slows, lands in some windows (with the engine quieted, four
    # shards of a local cluster: p99 1.01x-1.09x in runs where the same four shards without
    # the engine, right after, held 1.02x).
    # So up to ATTEMPTS runs: one that holds BOUND passes; a quiet one that misses is held
    # against the same four shards run without the engine right after it: a miss if they
    # held BOUND while the cluster's p99 was past ENGINE_BOUND; if they did not hold it,
    # the machine's tail is what was measured: not judged. The two runs are seconds apart
    # and a burst of the host's may land in either (one judged miss in six runs of this
    # test alone, the others passing or not judged): a miss counts when it repeats.
    recording = write_recording(tmp_path / "r.trec", [f"user-{k}" for k in range(48)])
    seen: list[str] = []
    misses = 0
    for attempt in range(ATTEMPTS):
        with CpuMeter() as meter:
            merged, busy = sharded_spin(tmp_path / f"run-{attempt}", recording, meter)
        assert merged.latency is not None
        p50, p99 = merged.latency.uncorrected.p50, merged.latency.uncorrected.p99
        seen.append(f"p99 {p99 / SPIN_NS:.4f}x, p50 {p50 / SPIN_NS:.4f}x, {busy:.2f} cores busy")
        if busy > QUIET_CORES:
            continue
        if p99 <= SPIN_NS * BOUND:
            return
        alone = engineless_p99(recording, tmp_path / f"alone-{attempt}")
        seen[-1] += f", without the engine p99 {alone / SPIN_NS:.4f}x"
        if alone > SPIN_NS * BOUND:
            continue
        if p99 <= SPIN_NS * ENGINE_BOUND:
            return
        misses += 1
    assert misses < 2, (
        f"the p99 missed {ENGINE_BOUND}x the spin in {misses} runs where the shards without "
        f"the engine held {BOUND}x: {seen}"
    )
    warnings.warn(f"p99 not judged ({misses} miss, not repeated; else the machine's own "
                  f"tail) in all {ATTEMPTS} runs: {seen}", stacklevel=1)  # fmt: skip


def engineless_p99(recording: Path, folder: Path) -> float:
    """The merged p99 of the same four shards without the engine: what this machine allows
    the shards' layout now."""
    merged = engineless_run(recording, folder)
    assert merged.latency is not None
    return float(merged.latency.uncorrected.p99)


def engineless_run(recording: Path, folder: Path) -> RunResult:
    """Four shards of the 1 ms spin as `treasure replay --shard i/4` processes sharing one
    start, no Dask, merged."""
    folder.mkdir(parents=True)
    start_at = time.time() + 4  # after every process has started its backend
    line = [str(TREASURE), "replay", str(recording), "-b", "tests.groundtruth.timing:Spin1ms",
            "--warmup", "0", "--pace", f"rate:{RATE:g}/s",
            "--start-at", f"{start_at:.6f}"]  # fmt: skip
    replays = [
        subprocess.Popen(
            [*line, "--shard", f"{index}/4", "-o", str(folder / f"shard-{index}.json")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for index in range(4)
    ]
    for replay in replays:
        _, stderr = replay.communicate(timeout=120)
        assert replay.returncode == 0, stderr.decode()
    runs = [load(folder / f"shard-{index}.json") for index in range(4)]
    shards = [
        ShardResult(f"shard {i}/4", run) for i, run in enumerate(runs) if isinstance(run, RunResult)
    ]
    assert len(shards) == 4
    merged = merge(shards)
    assert merged.messages == 48 * 49 // 2
    return merged


class DiesOrHangs(Spin200us):
    """Routes, except on a marked payload: `abort` kills its process, `hang` never returns."""

    name = "dies-or-hangs"
    record: ClassVar[Routed] = ("e", "p", "s")

    def route(self, payload: bytes) -> Routed:
        if payload.startswith(b"abort"):
            os.abort()
        while payload.startswith(b"hang"):
            time.sleep(1)
        return self.record


def users_of_shards(count: int) -> list[str]:
    """One user per shard, in shard order."""
    found: dict[int, str] = {}
    for n in range(1000):
        found.setdefault(shard_of(f"u{n}", count), f"u{n}")
    return [found[index] for index in range(count)]


@pytest.mark.usefixtures("quick_start")
def test_on_a_running_cluster_a_shard_that_dies_and_one_that_hangs_keep_the_others(
    tmp_path: Path,
) -> None:
    dies, hangs, lives = users_of_shards(3)
    recording = tmp_path / "r.trec"
    with RecordingWriter(recording, metadata={"scenario": "faults", "users": 3}) as writer:
        for n in range(30):
            writer.write(n, lives, b"fine")
        writer.write(31, dies, b"abort")
        writer.write(32, hangs, b"hang")
    with dask_distributed().LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as scheduler:  # a cluster already running
        config = ReplayConfig(
            backend="tests.integration.test_cluster:DiesOrHangs",
            recording=str(recording),
            warmup=0,
            shards=3,
            pass_timeout_s=8,
            cluster=scheduler.scheduler_address,
        )
        with pytest.raises(ClusterError) as failed:
            run_sharded(config, tmp_path / "run.artefacts")

    said = str(failed.value)
    assert "shard 0/3 " in said
    assert "timing pass failed: died with signal 6" in said
    assert "shard 1/3 " in said
    assert "killed after the 8 s pass timeout" in said
    assert "the other 1 shards' results are in" in said
    kept = load(tmp_path / "run.artefacts/shards/shard-2-of-3.json")
    assert isinstance(kept, RunResult)
    assert kept.messages == 30


def test_the_kubernetes_manifest_is_an_indexed_job_of_auto_shards() -> None:
    manifest = yaml.safe_load((ROOT / "examples/kubernetes/replay-job.yaml").read_text())

    spec = manifest["spec"]
    assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "Job")
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    line = [*container["command"], *container["args"]]
    assert line[:2] == ["treasure", "replay"]
    assert line[line.index("--shard") + 1] == f"auto/{spec['completions']}"
    assert spec["parallelism"] == spec["completions"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    index = next(env for env in container["env"] if env["name"] == JOB_INDEX_VARIABLE)
    assert "job-completion-index" in index["valueFrom"]["fieldRef"]["fieldPath"]
    # one start time passed to every pod, from the pod spec's environment
    start_at = line[line.index("--start-at") + 1]
    assert start_at.startswith("$(")
    assert start_at.endswith(")")
    start = next(env for env in container["env"] if env["name"] == start_at[2:-1])
    assert parse_start_at(start["value"]) > 0
    config = ReplayConfig(
        backend="b", recording="r", shard=line[line.index("--shard") + 1].replace("auto", "0"),
        start_at=start["value"],
    )  # fmt: skip
    assert config.start_at == start["value"]


def test_an_indexed_job_of_auto_shards_then_merge(tmp_path: Path) -> None:
    recording = write_recording(tmp_path / "r.trec", [f"player-{k}" for k in range(16)])
    count = 3
    start_at = time.time() + 8  # the pods' shared start: after every process has booted
    replays = [
        subprocess.Popen(
            [
                str(TREASURE),
                "replay",
                str(recording),
                "-b",
                "pyyaml-stream",
                "--warmup",
                "5",
                "--shard",
                f"auto/{count}",
                "--start-at",
                f"{start_at:.6f}",
                "-o",
                str(tmp_path / f"shard-{index}.json"),
            ],
            env={**os.environ, JOB_INDEX_VARIABLE: str(index)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for index in range(count)
    ]
    for replay in replays:
        _, stderr = replay.communicate(timeout=120)
        assert replay.returncode == 0, stderr.decode()

    merge = subprocess.run(
        [str(TREASURE), "merge", *(str(tmp_path / f"shard-{i}.json") for i in range(count)),
         "-o", str(tmp_path / "merged.json"), "--json"],
        capture_output=True, cwd=ROOT, check=False,
    )  # fmt: skip

    assert merge.returncode == 0, merge.stderr.decode()
    merged = msgspec.json.decode(merge.stdout, type=RunResult)
    assert merged.messages == 16 * 17 // 2 - 5
    assert merged.errors == {}
    assert merged.shards is not None
    assert [run.index for run in merged.shards.runs] == [0, 1, 2]
    # every shard waited for the one start it was given, and began just after it
    assert merged.shards.start_at_ns == int(Decimal(f"{start_at:.6f}") * 1_000_000_000)
    for run in merged.shards.runs:
        assert run.lateness_ns is not None
        assert 0 <= run.lateness_ns < 200_000_000
    assert merged.config is not None
    assert merged.config.start_at == ""  # a merged run's --rerun starts its own shards
