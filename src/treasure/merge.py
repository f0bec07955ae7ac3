"""`treasure merge`: N shard results of one plan into one result, exactly.

Latency HDR histograms of one configuration add up bucket by bucket, so the merged
percentiles are those of every shard's messages pooled. Counts and error categories add
up; payload sizes and heap per message pool exactly from what each shard kept. What
belongs to one process (RSS, GC pauses, a CPU profile) stays per shard, side by side in
`shards.runs`: a merged result is never a fake single process. Shards that are not the N
parts of one plan over one recording with one configuration are refused, with the reason.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from treasure.errors import TreasureError
from treasure.passes.timing import MAX_ERROR_SAMPLES, now_iso
from treasure.probes.gc import KEPT_PAUSES
from treasure.probes.latency import (
    HistogramError,
    counted_distribution,
    decode_histogram,
    exact_distribution,
    new_histogram,
    summary_of_histograms,
)
from treasure.results import (
    Distribution,
    GcSummary,
    HeapSummary,
    LatencySummary,
    RecordingInfo,
    ReplayConfig,
    RunResult,
)
from treasure.shards import MergedShards, ShardFigures, ShardPlan

# Options that may differ between the shards of one run: which shard, where it wrote.
PER_SHARD_OPTIONS = ("shard", "shards", "cluster", "artefacts")


class MergeError(TreasureError):
    """Shard results that are not the N shards of one run."""


@dataclass(frozen=True)
class ShardResult:
    """One shard's result and where it came from (a file name, for error messages)."""

    source: str
    run: RunResult

    @property
    def plan(self) -> ShardPlan:
        assert self.run.shard is not None  # checked by `_plans`
        return self.run.shard


def merge(shards: Sequence[ShardResult], config: ReplayConfig | None = None) -> RunResult:
    """One RunResult from the N shard results of one plan; `config` is the merged run's
    (default: the shards' own, as `--shards N` with no shard of its own)."""
    started = time.perf_counter()
    ordered = _check(shards)
    first = ordered[0].run
    runs = [shard.run for shard in ordered]
    messages = sum(run.messages for run in runs)
    begin = min(shard.plan.started_ns for shard in ordered)
    end = max(shard.plan.started_ns + shard.run.duration_ns for shard in ordered)
    span = max(0, end - begin)
    merged = RunResult(
        created_at=now_iso(),
        backend=first.backend,
        backend_kind=first.backend_kind,
        library=first.library,
        library_version=first.library_version,
        config=config or _merged_config(first.config, len(ordered)),
        recording=_recording(runs),
        host=first.host,
        messages=messages,
        errors=dict(sum((Counter(run.errors) for run in runs), Counter())),
        error_samples=sorted(
            (sample for run in runs for sample in run.error_samples),
            key=lambda sample: sample.frame_index,
        )[:MAX_ERROR_SAMPLES],
        stopped_early="; ".join(
            f"shard {shard.plan.index}/{shard.plan.count}: {shard.run.stopped_early}"
            for shard in ordered
            if shard.run.stopped_early
        ),
        duration_ns=span,
        throughput_per_s=messages / (span / 1e9) if span else 0.0,
        payload_size=_payload_size(ordered),
        latency=_latency(ordered),
        gc=_gc(runs, messages),
        heap=_heap(ordered),
        routed_count=sum(run.routed_count for run in runs),
        routed_digest=_routed_digest(runs),
    )
    merged.shards = MergedShards(
        count=len(ordered),
        recording_digest=ordered[0].plan.recording_digest,
        start_at_ns=ordered[0].plan.start_at_ns,
        start_skew_ns=max(s.plan.started_ns for s in ordered) - begin,
        runs=[_figures(shard) for shard in ordered],
    )
    merged.shards.merge_seconds = time.perf_counter() - started
    return merged


def _check(shards: Sequence[ShardResult]) -> list[ShardResult]:
    """The shards in index order, once each; refused unless they are one plan's N shards."""
    if not shards:
        raise MergeError("no shard result to merge")
    for shard in shards:
        if shard.run.shard is None:
            raise MergeError(
                f"{shard.source} is not a shard's result (no shard plan): "
                "merge the results of `treasure replay --shard i/N`"
            )
    first = shards[0]
    count = first.plan.count
    by_index: dict[int, ShardResult] = {}
    for shard in shards:
        _same_run(first, shard)
        if shard.plan.count != count:
            raise MergeError(
                f"{first.source} is a shard of {count}, {shard.source} of {shard.plan.count}: "
                "merge the shards of one plan"
            )
        twice = by_index.get(shard.plan.index)
        if twice is not None:
            raise MergeError(
                f"shard {shard.plan.index}/{count} is given twice: {twice.source} and "
                f"{shard.source}"
            )
        by_index[shard.plan.index] = shard
    missing = [str(index) for index in range(count) if index not in by_index]
    if missing:
        raise MergeError(
            f"shard {', '.join(f'{i}/{count}' for i in missing)} missing: "
            f"a merge needs all {count} shards ({len(by_index)} given)"
        )
    return [by_index[index] for index in range(count)]


def _same_run(first: ShardResult, shard: ShardResult) -> None:
    a, b = first.plan, shard.plan
    if (a.key, a.hash) != (b.key, b.hash):
        raise MergeError(
            f"{first.source} and {shard.source} split the recording differently "
            f"({a.hash} of {a.key} vs {b.hash} of {b.key})"
        )
    if (a.recording_digest, a.recording_frames) != (b.recording_digest, b.recording_frames):
        raise MergeError(
            f"{first.source} and {shard.source} replayed different recordings "
            f"({a.recording_frames} frames, content {a.recording_digest[:12]} vs "
            f"{b.recording_frames} frames, content {b.recording_digest[:12]})"
        )
    differ = _differing_options(first.run.config, shard.run.config)
    if first.run.library_version != shard.run.library_version:
        differ.append(f"library version ({first.run.library_version} vs "
                      f"{shard.run.library_version})")  # fmt: skip
    if differ:
        raise MergeError(
            f"{first.source} and {shard.source} ran with different options: {'; '.join(differ)}"
        )


def _differing_options(a: ReplayConfig, b: ReplayConfig) -> list[str]:
    left, right = msgspec.structs.asdict(a), msgspec.structs.asdict(b)
    return [
        f"{name} ({left[name]!r} vs {right[name]!r})"
        for name in left
        if name not in PER_SHARD_OPTIONS and left[name] != right[name]
    ]


def _merged_config(config: ReplayConfig, count: int) -> ReplayConfig:
    """The shards' options as one run of `count` shards (enough for `--rerun`)."""
    return msgspec.structs.replace(
        config, shard="", shards=count, cluster="", artefacts="", start_at=""
    )


def _recording(runs: Sequence[RunResult]) -> RecordingInfo:
    first = runs[0].recording
    return msgspec.structs.replace(
        first,
        messages_measured=sum(run.recording.messages_measured for run in runs),
        payload_bytes_measured=sum(run.recording.payload_bytes_measured for run in runs),
    )


def _payload_size(shards: Sequence[ShardResult]) -> Distribution | None:
    sizes: Counter[int] = Counter()
    for shard in shards:
        for size, count in shard.plan.payload_sizes:
            sizes[size] += count
    return counted_distribution(sizes) if sizes else None


def _latency(shards: Sequence[ShardResult]) -> LatencySummary | None:
    """The shards' HDR histograms added bucket by bucket (corrected ones too, if paced)."""
    latencies = [(shard.source, shard.run.latency) for shard in shards]
    if all(latency is None for _, latency in latencies):
        return None
    uncorrected, corrected = new_histogram(), new_histogram()
    paced = all(latency is not None and latency.corrected_hdr for _, latency in latencies)
    medians: list[int] = []
    for source, latency in latencies:
        if latency is None or not latency.hdr:
            raise MergeError(f"{source} keeps no HDR histogram of its latency to merge")
        try:
            uncorrected.add(decode_histogram(latency.hdr))
            if paced:
                corrected.add(decode_histogram(latency.corrected_hdr))
        except HistogramError as exc:
            raise MergeError(f"{source}: {exc}") from None
        medians += latency.block_medians_ns
    sizes = {latency.block_size for _, latency in latencies if latency is not None}
    return summary_of_histograms(
        uncorrected,
        corrected if paced else None,
        block_size=max(sizes),
        block_medians_ns=medians,
    )


def _gc(runs: Sequence[RunResult], messages: int) -> GcSummary | None:
    """Collections add up; a pause percentile is exact only while the pooled slowest
    pauses each shard kept reach down to it, else it is the shards' highest p99."""
    summaries = [run.gc for run in runs if run.gc is not None]
    if len(summaries) != len(runs):
        return None
    count = sum(gc.collections for gc in summaries)
    slowest = sorted(pause for gc in summaries for pause in gc.pauses_ns)
    index = min(count - 1, int(count * 0.99)) if count else 0
    from_top = count - index  # the p99's rank counted from the slowest pause
    p99 = slowest[-from_top] if count and from_top <= len(slowest) else 0
    return GcSummary(
        collections=count,
        by_generation=[sum(g) for g in zip(*(gc.by_generation for gc in summaries), strict=True)],
        collections_per_1k=1000 * count / messages if messages else 0.0,
        pause_total_ns=sum(gc.pause_total_ns for gc in summaries),
        pause_p99_ns=p99 or max(gc.pause_p99_ns for gc in summaries),
        pause_max_ns=max(gc.pause_max_ns for gc in summaries),
        pauses_ns=slowest[-KEPT_PAUSES:],
    )


def _routed_digest(runs: Sequence[RunResult]) -> str:
    """A digest of the shards' own, in shard order: two merged runs that routed the same
    frames agree; against an unsharded run it differs (the ratio is then not compared)."""
    combined = hashlib.sha256(b"shards:")
    for run in runs:
        combined.update(run.routed_digest.encode())
    return combined.hexdigest()


def _figures(shard: ShardResult) -> ShardFigures:
    run, plan = shard.run, shard.plan
    target = run.target.process if run.target is not None else None
    return ShardFigures(
        index=plan.index,
        messages=run.messages,
        errors=run.error_count,
        frames=plan.frames,
        users=plan.users,
        duration_ns=run.duration_ns,
        throughput_per_s=run.throughput_per_s,
        started_ns=plan.started_ns,
        lateness_ns=plan.lateness_ns,
        host=run.host.platform,
        rss_peak_bytes=run.rss.peak_bytes if run.rss is not None else None,
        rss_growth_per_message_bytes=run.rss.growth_per_message_bytes if run.rss else None,
        gc_collections=run.gc.collections if run.gc is not None else None,
        gc_pause_max_ns=run.gc.pause_max_ns if run.gc is not None else None,
        target_rss_peak_bytes=target.rss_peak_bytes if target is not None else None,
        target_rss_growth_per_request_bytes=(
            target.rss_growth_per_request_bytes if target is not None else None
        ),
        source=shard.source,
    )


HEAP_FIGURES = (
    "allocated_bytes",
    "allocations",
    "peak_bytes",
    "retained_bytes",
    "native_allocated_bytes",
    "native_retained_bytes",
    "other_thread_bytes",
)


def _heap(shards: Sequence[ShardResult]) -> HeapSummary | None:
    """Heap per message pooled from each shard's per-message table (its heap pass's CSV
    artefact): distributions do not add up, the messages they summarise do."""
    if all(shard.run.heap is None for shard in shards):
        return None
    rows: list[dict[str, str]] = []
    for shard in shards:
        heap = shard.run.heap
        if heap is None or not heap.measurable:
            why = "no heap pass" if heap is None else heap.reason
            return HeapSummary(measurable=False, reason=f"{shard.source}: {why}")
        table = Path(heap.artefacts.get("heap_per_message_csv", ""))
        try:
            with table.open(newline="") as lines:
                rows += csv.DictReader(lines)
        except OSError as exc:
            return HeapSummary(
                measurable=False,
                reason=f"{shard.source}: its per-message heap figures ({table}) cannot be "
                f"read here ({exc.strerror}): heap merges from them",
            )
    return _pooled_heap(rows, [shard.run.heap for shard in shards if shard.run.heap])


def _pooled_heap(rows: list[dict[str, str]], heaps: list[HeapSummary]) -> HeapSummary:
    def over(name: str) -> Distribution:
        return exact_distribution([int(row[name]) for row in rows])

    first = heaps[0]
    merged = HeapSummary(
        measurable=True,
        traced_messages=len(rows),
        traced_selection=f"the traced messages of {len(heaps)} shards, pooled",
        trace_method=first.trace_method,
        trace_seed=first.trace_seed,
        profiler_excluded=all(heap.profiler_excluded for heap in heaps),
        profiler_note=first.profiler_note,
        partial=any(heap.partial for heap in heaps),
        partial_reason="; ".join(heap.partial_reason for heap in heaps if heap.partial),
        users=sum(heap.users for heap in heaps),
    )
    for name in HEAP_FIGURES:
        setattr(merged, name, over(name))
    merged.amplification = exact_distribution(
        [int(r["peak_bytes"]) / int(r["payload_bytes"]) for r in rows if int(r["payload_bytes"])]
    )
    return merged
