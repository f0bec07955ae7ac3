"""Results for report tests, written out figure by figure (no random numbers), so the
report rows they give are the same on every Python and every machine."""

from __future__ import annotations

from tests.builders import comparison as comparison_of
from tests.builders import recording_of, spread_of
from tests.builders import run as run_of

from treasure.results import (
    CompareResult,
    CpuSummary,
    GcSummary,
    HeapSummary,
    LatencySummary,
    ReplayConfig,
    RssSummary,
    RunResult,
)

RECORDING = recording_of(
    3000, path="runs/blowup-12k.trec", users=12_000, scenario="blowup-12k", read_to_end=False
)
MESSAGES = RECORDING.messages_measured
JITTER = (0.97, 1.0, 1.03, 0.99, 1.01, 0.98, 1.02, 1.0, 0.995, 1.005)  # 10 blocks


def latency(median_ns: int, *, jitter: tuple[float, ...] = JITTER) -> LatencySummary:
    return LatencySummary(
        uncorrected=spread_of(median_ns),
        block_size=300,
        block_medians_ns=[int(median_ns * factor) for factor in jitter],
    )


def heap(peak: float, *, users: int = 0) -> HeapSummary:
    return HeapSummary(
        measurable=True,
        traced_messages=300,
        traced_selection="the first 300",
        peak_bytes=spread_of(peak),
        allocated_bytes=spread_of(peak * 3),
        retained_bytes=spread_of(229),
        amplification=spread_of(peak / 512),
        allocations=spread_of(1963),
        peak_heap_at_users_bytes=int(peak * 2 + 200_000),
        users=users,
    )


def run(
    backend: str,
    kind: str,
    median_ns: int,
    peak: float | None,
    *,
    errors: dict[str, int] | None = None,
    jitter: tuple[float, ...] = JITTER,
) -> RunResult:
    return run_of(
        backend,
        kind=kind,
        library="lib",
        library_version="1.0",
        recording=RECORDING,
        config=ReplayConfig(backend=backend, recording=RECORDING.path, users=12_000, keep="record"),
        errors=errors or {},
        duration_ns=median_ns * MESSAGES,
        throughput_per_s=1e9 / median_ns,
        latency=latency(median_ns, jitter=jitter),
        gc=GcSummary(
            collections=3,
            by_generation=[2, 1, 0],
            collections_per_1k=1.0,
            pause_total_ns=1_500_000,
            pause_p99_ns=900_000,
            pause_max_ns=1_230_000,
        ),
        rss=RssSummary(
            start_bytes=30 << 20,
            end_bytes=31 << 20,
            peak_bytes=32 << 20,
            growth_per_message_bytes=120.0,
        ),
        heap=heap(peak, users=12_000) if peak is not None else None,
    )


def comparison() -> CompareResult:
    """Every built-in backend's name; one within noise of the baseline, one with errors,
    one whose heap memray cannot see, and one profiled for CPU."""
    noisy = (0.8, 1.25, 0.9, 1.2, 1.1, 0.85, 1.3, 0.75, 1.0, 1.15)
    runs = [
        run("pyyaml-dom", "dom", 240_000, 98_500),
        run("pyyaml-dom-pure", "dom", 3_800_000, 42_800),
        run("ruamel-dom", "dom", 880_000, 106_100),
        run("pyyaml-stream", "stream", 116_000, 72_300, errors={"syntax": 30, "schema": 6}),
        run("msgspec-typed", "typed", 245_000, 98_600, jitter=noisy),
        run("rust-serde", "rust", 20_000, 1_500),
        run("rust-events", "rust", 19_500, 1_350),
        run("rust-fastyaml", "rust", 41_300, 6_450),
    ]
    runs[7].heap = HeapSummary(measurable=False, reason="links its own allocator statically")
    runs[5].cpu = CpuSummary(
        profiled=True, samples=1200, loop_samples=1000, backend_samples=880, backend_share=0.88
    )
    return comparison_of(*runs, failed={"yaml-rs": "the pass died: signal 6"}, complete=False)
