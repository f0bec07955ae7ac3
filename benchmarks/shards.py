"""`make bench`, sharding: one shard against two on this machine, and what merging costs.

    python benchmarks/shards.py RECORDING [--backend NAME] [--limit N] [--rounds R]

Both go through the same path, `treasure replay --shards N` on a local Dask cluster of
worker processes (1 shard: one worker; 2 shards: two), in interleaved rounds. Reported:
the merged run's messages/s (measured messages over the span from the first shard's start
to the last one's end), each shard's own messages/s, the start skew, the wall time of the
whole command (cluster start-up included), and what `merge` costs on the two shard
results (the median of repeated merges).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from treasure.cluster import SHARD_RESULTS, run_sharded
from treasure.merge import ShardResult, merge
from treasure.results import ReplayConfig, RunResult, load

MERGES = 5


def sharded(recording: Path, backend: str, shards: int, limit: int, scratch: Path) -> RunResult:
    config = ReplayConfig(backend=backend, recording=str(recording), limit=limit, shards=shards)
    return run_sharded(config, scratch / f"{shards}-shards-{time.monotonic_ns()}")


def merge_seconds(result: RunResult) -> float:
    """The median of repeated merges of the run's own shard results, read from disk."""
    folder = Path(result.artefacts[SHARD_RESULTS])
    parts: list[ShardResult] = []
    for path in sorted(folder.glob("shard-*.json")):
        run = load(path)
        assert isinstance(run, RunResult)
        parts.append(ShardResult(str(path), run))
    timings = []
    for _ in range(MERGES):
        started = time.perf_counter()
        merge(parts)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--backend", default="pyyaml-dom")
    parser.add_argument("--limit", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows: dict[int, list[tuple[RunResult, float, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="treasure-bench-shards-") as scratch:
        for _ in range(args.rounds):
            for shards in (1, 2):
                started = time.perf_counter()
                result = sharded(args.recording, args.backend, shards, args.limit, Path(scratch))
                wall = time.perf_counter() - started
                rows[shards].append((result, wall, merge_seconds(result)))
    show(rows, args)


def show(rows: dict[int, list[tuple[RunResult, float, float]]], args: argparse.Namespace) -> None:
    table = Table(
        title=f"{args.backend}, {args.limit} messages of {args.recording.name}, "
        f"medians of {args.rounds} interleaved rounds"
    )
    for name in ("shards", "msg/s", "per shard msg/s", "start skew", "wall s", "merge ms"):
        table.add_column(name, justify="right")
    base = statistics.median(result.throughput_per_s for result, _, _ in rows[1])
    for shards, runs in rows.items():
        rate = statistics.median(result.throughput_per_s for result, _, _ in runs)
        per_shard = [
            statistics.median(r.shards.runs[i].throughput_per_s for r, _, _ in runs if r.shards)
            for i in range(shards)
        ]
        skew = statistics.median(r.shards.start_skew_ns for r, _, _ in runs if r.shards)
        table.add_row(
            str(shards),
            f"{rate:,.0f} ({rate / base:.2f}×)",
            " / ".join(f"{value:,.0f}" for value in per_shard),
            f"{skew / 1e6:.1f} ms",
            f"{statistics.median(wall for _, wall, _ in runs):.1f}",
            f"{statistics.median(cost for _, _, cost in runs) * 1000:.1f}",
        )
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
