"""Sharded timing against ground truth: four shards of a 1 ms spin on a local cluster,
merged, against one unsharded run and against the same four shards without the engine
(four `treasure replay --shard i/4 --start-at T` processes), in interleaved rounds.

    python benchmarks/shard_spin.py [--rounds R]

All three replay 1,176 messages at rate:250/s (four shards at 62.5/s each, staggered by
1/R) through `tests.groundtruth.timing:Spin1ms`; the unsharded run goes through the same
replay path as shard 0 of 1 (every frame, one process). The shards without the engine
are what the machine allows the shards' layout (four processes taking turns on its cores);
the cluster's excess over them is the engine's. Reported per kind: the p50 and p99
to the spin (median and range over the rounds) and the cores the machine kept busy while
each timed loop ran (from /proc/stat): a p99 read while other work kept the cores busy is
the machine's, not the sharding's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

# the ground truth lives in tests/ (run from the repository's root: its passes import it too)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.groundtruth.timing import Spin1ms
from tests.integration.test_cluster import METER_S, RATE, engineless_run, write_recording

from treasure.cluster import run_sharded
from treasure.results import ReplayConfig, RunResult
from treasure.runner.replay import run_replay

BACKEND = "tests.groundtruth.timing:Spin1ms"


def busy_jiffies() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def measured(run: RunResult, samples: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """p50 and p99 to the spin, and the busy cores while the timed loop ran."""
    assert run.latency is not None
    if run.shard is not None:
        begin = run.shard.started_ns
    else:
        assert run.shards is not None
        begin = min(shard.started_ns for shard in run.shards.runs)
    inside = [s for s in samples if begin <= s[0] <= begin + run.duration_ns]
    cores = float("nan")
    if len(inside) >= 2:
        (_, b0, a0), (_, b1, a1) = inside[0], inside[-1]
        cores = (b1 - b0) / max(1, a1 - a0) * (os.cpu_count() or 1)
    spin = Spin1ms.spend_ns
    return run.latency.uncorrected.p50 / spin, run.latency.uncorrected.p99 / spin, cores


def sampled(action: Callable[[], RunResult]) -> tuple[RunResult, list[tuple[int, int, int]]]:
    samples: list[tuple[int, int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(METER_S):
            samples.append((time.time_ns(), *busy_jiffies()))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = action()
    finally:
        stop.set()
        thread.join()
    return result, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # the shards without the engine are `treasure replay` processes: they import it too
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    figures: dict[str, list[tuple[float, float, float]]] = {
        "unsharded": [], "4 shards, local cluster": [], "4 shards, no engine": []
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="treasure-bench-spin-") as scratch:
        folder = Path(scratch)
        recording = write_recording(folder / "r.trec", [f"user-{k}" for k in range(48)])
        alone = ReplayConfig(
            backend=BACKEND, recording=str(recording), warmup=0, pace=f"rate:{RATE:g}/s",
            shard="0/1",
        )  # fmt: skip
        sharded = msgspec.structs.replace(alone, shard="", shards=4)
        for round_ in range(args.rounds):
            here = folder / str(round_)
            run, samples = sampled(partial(run_replay, alone, artefact_dir=here / "alone"))
            figures["unsharded"].append(measured(run, samples))
            run, samples = sampled(partial(run_sharded, sharded, here / "sharded"))
            figures["4 shards, local cluster"].append(measured(run, samples))
            run, samples = sampled(partial(engineless_run, recording, here / "engineless"))
            figures["4 shards, no engine"].append(measured(run, samples))
    show(figures, args.rounds)


def spread(values: list[float], digits: int) -> str:
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")  # fmt: skip


def show(figures: dict[str, list[tuple[float, float, float]]], rounds: int) -> None:
    table = Table(title=f"Spin1ms at rate:{RATE:g}/s, median (range) of {rounds} rounds")
    for name in ("run", "p50 / spin", "p99 / spin", "busy cores"):
        table.add_column(name, justify="right")
    for kind, rows in figures.items():
        table.add_row(
            kind,
            spread([r[0] for r in rows], 4),
            spread([r[1] for r in rows], 3),
            spread([r[2] for r in rows], 2),
        )
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
