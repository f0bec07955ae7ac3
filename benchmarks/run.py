"""`make bench`: every figure measured side by side in one run, reported as medians and
ratios (the machine is shared and noisy; absolute times move, ratios much less).

    python benchmarks/run.py RECORDING [--limit N] [--heap-messages N]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

import treasure
from treasure.parsers import available_names
from treasure.report.units import format_bytes
from treasure.results import CompareResult, ReplayConfig, RunResult

ROOT = Path(__file__).resolve().parents[1]
NOOP = "benchmarks.noop:NoOpBackend"


def p50_us(run: RunResult) -> float:
    assert run.latency is not None
    return run.latency.uncorrected.p50 / 1000


def peak_p50(run: RunResult) -> float | None:
    heap = run.heap
    if heap is None or not heap.measurable or heap.peak_bytes is None:
        return None
    return heap.peak_bytes.p50


def speed_table(result: CompareResult, noop: RunResult) -> Table:
    cheapest = min(result.runs, key=p50_us)
    base = next((r for r in result.runs if r.backend == result.baseline), cheapest)
    table = Table(title="µs per message (timing pass, median) and heap per message (memray pass)")
    for header in ("backend", "µs/msg p50", "vs pyyaml-dom", "peak heap/msg p50", "vs pyyaml-dom"):
        table.add_column(header, justify="left" if header == "backend" else "right")
    for run in sorted(result.runs, key=p50_us):
        peak, base_peak = peak_p50(run), peak_p50(base)
        table.add_row(
            run.backend,
            f"{p50_us(run):.1f}",
            f"{p50_us(base) / p50_us(run):.1f}× faster",
            format_bytes(peak),
            f"{base_peak / peak:.1f}× less" if peak and base_peak else "-",
        )
    floor = p50_us(noop)
    loop = 1e6 / noop.throughput_per_s if noop.throughput_per_s else 0.0
    table.caption = (
        f"harness: no-op backend median {floor * 1000:.0f} ns inside the timing window = "
        f"{100 * floor / p50_us(cheapest):.2f} % of the cheapest backend ({cheapest.backend}, "
        f"{p50_us(cheapest):.1f} µs); whole loop per message {loop:.2f} µs"
    )
    return table


def heap_pass_table(result: CompareResult) -> Table:
    table = Table(title="heap pass (memray) cost against the timing pass, per message")
    headers = ("backend", "timing µs", "tracked µs", "slowdown", "whole pass µs/traced",
               "capture B/traced")  # fmt: skip
    for header in headers:
        table.add_column(header, justify="left" if header == "backend" else "right")
    for run in result.runs:
        heap = run.heap
        if heap is None or not heap.traced_messages or not heap.tracked_messages:
            continue
        timing = run.duration_ns / 1000 / run.messages
        tracked = heap.tracked_seconds * 1e6 / (heap.tracked_messages + run.config.warmup)
        table.add_row(
            run.backend,
            f"{timing:.1f}",
            f"{tracked:.1f}",
            f"{tracked / timing:.1f}×",
            f"{heap.pass_seconds * 1e6 / heap.traced_messages:,.0f}",
            f"{heap.capture_bytes / heap.traced_messages:,.0f}",
        )
    table.caption = (
        "timing: mean wall time per message in the timing pass; tracked: the same loop under "
        "memray; whole pass adds start-up, reading the capture and memray's flamegraph"
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording", type=Path)
    parser.add_argument("--limit", type=int, default=5_000)
    parser.add_argument("--heap-messages", type=int, default=500)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    sys.path.insert(0, str(ROOT))
    console = Console(width=160)
    template = ReplayConfig(
        backend="",
        recording=str(args.recording),
        limit=args.limit,
        warmup=500,
        heap=True,
        heap_messages=args.heap_messages,
    )
    console.print(f"backends: {', '.join(available_names())}; {args.limit} messages each")
    result = treasure.compare(config=template, output=ROOT / "runs" / "bench.json")
    noop = treasure.replay(args.recording, NOOP, limit=args.limit, warmup=500)
    console.print(speed_table(result, noop))
    console.print(heap_pass_table(result))
    for name, why in result.failed.items():
        console.print(f"{name} failed: {why}")


if __name__ == "__main__":
    main()
