"""Numbers you can trust, measured: do repeated comparisons agree, and what does the heap pass
cost against the timing pass.

    .venv/bin/python benchmarks/truth.py runs/blowup-12k.trec [--backends a,b,c] [--limit N]
        [--repeats 3] [--rounds 10] [--heap-limit N]

1. The same comparison run `--repeats` times: each speed-up against the first backend as the
   timing passes give it (backends one after another) and as the interleaved rounds give it
   (median of per-round ratios, 95 % interval), and the spread of each over the repeats:
   (largest - smallest) / median. Goal: every interleaved ratio within 5 %.
2. The heap pass against the timing pass, with the tracer's profile function on
   (TREASURE_UNWATCHED=0, how the pass ran before) and off around traced handlers (now),
   and what each reports per message. Each pass runs as `treasure replay` does it, in its
   own fresh process; the seconds are the result's own pass clocks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from treasure import api
from treasure.results import CompareResult, ReplayConfig
from treasure.results.config import DEFAULT_ROUNDS

DEFAULT_BACKENDS = "pyyaml-dom,rust-serde,pyyaml-stream"
HEAP_BACKENDS = "pyyaml-dom,pyyaml-stream"
SPREAD_GOAL = 0.05


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values)


def sequential_ratios(result: CompareResult) -> dict[str, float]:
    """Speed-ups from the timing passes, run one backend after another (p50 over p50)."""
    p50 = {run.backend: run.latency.uncorrected.p50 for run in result.runs if run.latency}
    base = p50[result.baseline]
    return {name: base / value for name, value in p50.items() if name != result.baseline}


def interleaved_ratios(result: CompareResult) -> dict[str, tuple[float, str]]:
    """Speed-ups from the interleaved rounds, each with its interval written out."""
    assert result.rounds is not None, "the comparison ran no interleaved rounds"
    found = {}
    for ratio in result.rounds.ratios:
        assert ratio.median is not None, f"{ratio.backend}: {ratio.note}"
        interval = f"{ratio.low:.3f}-{ratio.high:.3f}" if ratio.low and ratio.high else "-"
        found[ratio.backend] = (ratio.median, interval)
    return found


def repeated_compare(args: argparse.Namespace) -> bool:
    backends = args.backends.split(",")
    config = ReplayConfig(
        backend="", recording=args.recording, limit=args.limit, rounds=args.rounds
    )
    print(f"1. the same compare {args.repeats} times: {', '.join(backends)}, ", end="")
    print(f"--limit {args.limit} --rounds {args.rounds} --no-heap, against {backends[0]}")
    sequential: dict[str, list[float]] = {}
    interleaved: dict[str, list[float]] = {}
    for repeat in range(1, args.repeats + 1):
        started = time.perf_counter()
        result = api.compare(backends=backends, baseline=backends[0], config=config)
        seconds = time.perf_counter() - started
        rounds = interleaved_ratios(result)
        for name, ratio in sequential_ratios(result).items():
            sequential.setdefault(name, []).append(ratio)
            median, interval = rounds[name]
            interleaved.setdefault(name, []).append(median)
            print(
                f"   run {repeat}: {name:<16} one after another {ratio:8.3f}×   "
                f"interleaved {median:8.3f}× (95 % {interval})   [{seconds:.0f} s]"
            )
    print(f"   {'backend':<16} {'spread, one after another':>26} {'spread, interleaved':>20}")
    met = True
    for name in interleaved:
        mark = "" if spread(interleaved[name]) <= SPREAD_GOAL else "  above the 5 % goal"
        met = met and not mark
        print(
            f"   {name:<16} {spread(sequential[name]):>25.1%} "
            f"{spread(interleaved[name]):>20.1%}{mark}"
        )
    return met


def replay(
    recording: str, backend: str, limit: int, unwatched: bool, out: Path, reader: str = ""
) -> Any:
    """One heap pass as `treasure replay` runs it; `reader` "memray" forces memray's own
    capture reader (TREASURE_CAPTURE_READER), "" lets the pass choose (the native one)."""
    command = [sys.executable, "-m", "treasure.cli", "replay", recording, "-b", backend]
    command += ["--limit", str(limit), "--heap", "--heap-messages", str(limit)]
    command += ["-o", str(out), "--json"]
    env = {**os.environ, "TREASURE_UNWATCHED": "1" if unwatched else "0"}
    env.pop("TREASURE_CAPTURE_READER", None)
    if reader:
        env["TREASURE_CAPTURE_READER"] = reader
    subprocess.run(command, check=True, capture_output=True, env=env)
    return json.loads(out.read_text())


HEADER = (
    f"{'backend':<16} {'handlers':<10} {'reader':<12} {'timing s':>9} {'tracked s':>10}"
    f" {'analysis s':>10} {'µs/record':>9} {'heap s':>9} {'heap/time':>9}"
    f" {'alloc p50 B':>12} {'peak p50 B':>10} {'allocs':>7}"
)


def row(backend: str, mode: str, result: Any) -> str:
    heap = result["heap"]
    timing_s = result["duration_ns"] / 1e9
    tracked_s = heap["tracked_seconds"]
    analysis_s = heap.get("analysis_seconds", 0.0)
    per_record = analysis_s / max(1, heap["capture_records"]) * 1e6
    return (
        f"{backend:<16} {mode:<10} {heap.get('capture_reader') or '-':<12} {timing_s:>9.3f}"
        f" {tracked_s:>10.3f} {analysis_s:>10.3f} {per_record:>9.3f}"
        f" {heap['pass_seconds']:>9.3f} {heap['pass_seconds'] / timing_s:>8.1f}×"
        f" {heap['allocated_bytes']['p50']:>12,.0f} {heap['peak_bytes']['p50']:>10,.0f}"
        f" {heap['allocations']['p50']:>7,.0f}"
    )


def heap_cost(args: argparse.Namespace) -> None:
    print(f"2. the heap pass against the timing pass, --limit {args.heap_limit}, every message")
    print("   before: handlers watched, memray's reader; after: unwatched, the native reader")
    print("   " + HEADER)
    with tempfile.TemporaryDirectory(prefix="treasure-truth-") as folder:
        for backend in args.heap_backends.split(","):
            for unwatched, mode, reader in ((False, "watched", "memray"), (True, "unwatched", "")):
                out = Path(folder) / f"{backend}-{mode}.json"
                result = replay(args.recording, backend, args.heap_limit, unwatched, out, reader)
                print("   " + row(backend, mode, result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS, help="the first is the baseline")
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--heap-backends", default=HEAP_BACKENDS)
    parser.add_argument("--heap-limit", type=int, default=1000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores")
    met = repeated_compare(args)
    heap_cost(args)
    print(f"interleaved ratios within {SPREAD_GOAL:.0%} across runs: {'yes' if met else 'no'}")


if __name__ == "__main__":
    main()
