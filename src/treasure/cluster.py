"""The engine: `treasure replay REC --shards N [--cluster tcp://HOST:PORT]` on Dask distributed.

Each shard is one Dask task that runs the ordinary replay (`runner.replay`) of
`--shard i/N`: its passes run in fresh processes of their own, started by the task, so no
measurement runs in a Dask worker's event loop or threads. The recording is read from its
path on every worker (a shared file system, or the same file copied to each machine); a
task first checks that the file it finds there has the driver's content. Results come
back as each shard's result JSON, saved beside the merged result before merging, so a
failed run keeps every shard that finished. Every shard waits for one start time
broadcast with the tasks (wall clock, `START_MARGIN_S` after submission) before its timed
loop; how late each one began is in the merged result.

With no `--cluster`, a local cluster of worker processes bound to 127.0.0.1 is started
for the run and shut down at its end.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import math
import os
import queue
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from treasure.errors import ExitCode, TargetError, TreasureError
from treasure.merge import ShardResult, merge
from treasure.passes.launch import PassProgress
from treasure.results import ReplayConfig, RunResult, save
from treasure.runner.replay import check_inputs, run_replay

START_MARGIN_S = 5.0  # from submission to the shared start: worker start-up and warm-up
SHARD_STALL_S = 300.0  # a shard silent this long (no progress report) is taken as hung
# The driver sleeps until a shard reports or ends; with neither it wakes this often to look
# for a shard gone silent (a timer here wakes nothing but the driver's own thread).
WAKE_S = 2.0
CONNECT_TIMEOUT_S = 10
# A local cluster shares its machine's cores with the shards it runs: Dask's own periodic
# work (the workers' stack profiler every 10 ms, the event loops' 20 ms tick, memory and
# system monitors every 100-500 ms) woke its idle processes ~550 times a second for a
# quarter of a core on two cores (measured), preempting the shards' timed windows. None
# of it is needed while shards measure: off, or once every few seconds.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "5s",
    "distributed.admin.system-monitor.interval": "5s",
    # The scheduler's search for tasks to move ran every 100 ms, in the driver's process;
    # a shard must never move anyway: it waits for a start shared with the others.
    "distributed.scheduler.work-stealing": False,
}
SHARD_RESULTS = "shards"  # the folder, under the run's artefacts, of each shard's result


class ClusterError(TreasureError):
    """A shard that failed, died or hung, or a cluster that could not be reached."""

    exit_code = ExitCode.TARGET_FAILED


def recording_digest(path: Path) -> str:
    """The recording file's content, so a worker knows it reads the driver's file."""
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as recording:
        while chunk := recording.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_shard(
    config_json: bytes, artefacts: str, start_at_ns: int, digest: str, topic: str
) -> bytes:
    """One shard, in a Dask worker (a task): the ordinary replay, its result as JSON."""
    config = msgspec.json.decode(config_json, type=ReplayConfig)
    path = Path(config.recording)
    if not path.is_file():
        raise TreasureError(f"{os.uname().nodename}: no recording at {path} on this worker")
    if recording_digest(path) != digest:
        raise TreasureError(f"{os.uname().nodename}: {path} is not the driver's recording")
    worker = dask_distributed().get_worker()

    def report(pass_name: str, done: int, total: int) -> None:
        # An event pushed to the driver on the worker's batched stream: no round trip
        worker.log_event(topic, [config.shard, pass_name, done, total])

    result = run_replay(
        config, artefact_dir=Path(artefacts), progress=report, checked=True,
        start_at_ns=start_at_ns,
    )  # fmt: skip
    return msgspec.json.encode(result)


def dask_distributed() -> Any:
    """The `distributed` package (its calls are untyped: kept behind Any)."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise TreasureError(
            "--shards needs Dask distributed: pip install 'treasure[cluster]'"
        ) from None


@contextmanager
def connected(config: ReplayConfig) -> Iterator[Any]:
    """A client of the configured scheduler, or of a local cluster made for this run."""
    distributed = dask_distributed()
    if config.cluster:
        try:
            client = distributed.Client(config.cluster, timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            raise ClusterError(f"cannot reach the scheduler at {config.cluster}: {exc}") from None
        with client:
            yield client
        return
    workers = max(1, min(config.shards, os.cpu_count() or 1))
    # A task whose worker dies fails at once: rerun elsewhere, it would miss the start.
    allowed = {"distributed.scheduler.allowed-failures": 0, **QUIET}
    dask_config: Any = importlib.import_module("dask.config")
    with dask_config.set(allowed), distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=math.ceil(config.shards / workers),  # every shard at once
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # a failed shard is reported once, by us
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


@dataclass
class _Shards:
    """Following the N shard tasks: their progress, results and failures."""

    count: int
    progress: PassProgress | None
    heard: dict[str, float] = field(default_factory=dict)  # shard -> last report (monotonic)
    done: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    results: dict[int, RunResult] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)

    def hear(self, shard: str, pass_name: str, done: int, total: int) -> None:
        """A shard's progress, summed per pass: one bar for the N shards' timing."""
        self.heard[shard] = time.monotonic()
        self.done[shard, pass_name] = (done, total)
        if self.progress is not None:
            ours = [figures for (_, name), figures in self.done.items() if name == pass_name]
            done_all, total_all = sum(d for d, _ in ours), sum(t for _, t in ours)
            self.progress(f"{self.count} shards' {pass_name}", done_all, total_all)


def run_sharded(
    config: ReplayConfig, artefact_dir: Path, progress: PassProgress | None = None
) -> RunResult:
    """The `config.shards` shards of `config`, on its cluster, merged into one result."""
    check_inputs(config)
    digest = recording_digest(Path(config.recording))
    token = uuid.uuid4().hex[:12]
    with connected(config) as client:
        topic = f"treasure-progress-{token}"
        events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        client.subscribe_topic(topic, lambda event: events.put(("progress", event[1])))
        start_at_ns = time.time_ns() + int(START_MARGIN_S * 1e9)
        futures = {
            index: client.submit(
                run_shard,
                msgspec.json.encode(_shard_config(config, index)),
                str(artefact_dir / f"shard-{index}"),
                start_at_ns,
                digest,
                topic,
                key=f"treasure-shard-{index}-of-{config.shards}-{token}",
                pure=False,
            )
            for index in range(config.shards)
        }
        for index, future in futures.items():
            future.add_done_callback(lambda _, index=index: events.put(("ended", index)))
        shards = _Shards(config.shards, progress)
        _follow(futures, events, shards)
        client.cancel([futures[index] for index in shards.failures])
    _keep(shards, artefact_dir / SHARD_RESULTS)
    if shards.failures:
        raise ClusterError(_failure_line(shards, artefact_dir / SHARD_RESULTS))
    merged = merge(
        [ShardResult(f"shard {i}/{config.shards}", run) for i, run in shards.results.items()],
        config,
    )
    merged.artefacts[SHARD_RESULTS] = str(artefact_dir / SHARD_RESULTS)
    return merged


def _shard_config(config: ReplayConfig, index: int) -> ReplayConfig:
    return msgspec.structs.replace(
        config, shard=f"{index}/{config.shards}", shards=0, cluster="", artefacts=""
    )


def _follow(
    futures: dict[int, Any], events: queue.SimpleQueue[tuple[str, Any]], shards: _Shards
) -> None:
    """Until every shard has finished, failed, or been silent for SHARD_STALL_S: woken by
    the shards' progress events and their futures' ends, never by asking the scheduler (a
    queue read every 0.25 s woke the scheduler's and the client's threads while shards on
    the same cores measured)."""
    started = time.monotonic()
    while len(shards.results) + len(shards.failures) < shards.count:
        with contextlib.suppress(queue.Empty):
            kind, what = events.get(timeout=WAKE_S)
            if kind == "progress":
                shards.hear(*what)
        for index, future in futures.items():
            if index in shards.results or index in shards.failures:
                continue
            if future.status == "finished":
                shards.results[index] = msgspec.json.decode(future.result(), type=RunResult)
            elif future.status in ("error", "cancelled", "lost"):
                shards.failures[index] = _why(future)
            else:
                heard = shards.heard.get(f"{index}/{shards.count}", started)
                if time.monotonic() - heard > SHARD_STALL_S:
                    shards.failures[index] = (
                        f"hung: no progress for {SHARD_STALL_S:g} s (set --pass-timeout "
                        "to bound each pass)"
                    )


def _why(future: Any) -> str:
    exc = future.exception()
    name = type(exc).__name__
    if name == "KilledWorker":
        return "its worker process died"
    if isinstance(exc, TargetError | TreasureError):
        return str(exc)
    return f"{name}: {exc}"


def _keep(shards: _Shards, folder: Path) -> None:
    for index, run in sorted(shards.results.items()):
        save(run, folder / f"shard-{index}-of-{shards.count}.json")


def _failure_line(shards: _Shards, folder: Path) -> str:
    failed = "; ".join(
        f"shard {index}/{shards.count} {why}" for index, why in sorted(shards.failures.items())
    )
    kept = f"the other {len(shards.results)} shards' results are in {folder}"
    return f"{failed}: {kept}" if shards.results else f"{failed}: no shard finished"
