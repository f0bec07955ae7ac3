"""`treasure merge`: shard results into one, exactly, and refused when they do not fit."""

from __future__ import annotations

import random
import re
from array import array
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from hdrh.histogram import HdrHistogram

from treasure.cli import cli
from treasure.merge import MergeError, ShardResult, merge
from treasure.probes._heap_records import MessageHeap
from treasure.probes.heap import write_messages_csv
from treasure.probes.latency import (
    bucket_counts,
    decode_histogram,
    distribution_of,
    encode_histogram,
    exact_distribution,
    histogram_of,
    summarize,
)
from treasure.results import (
    ErrorSample,
    GcSummary,
    HeapSummary,
    HostInfo,
    RecordingInfo,
    ReplayConfig,
    RunResult,
    load,
    save,
)
from treasure.shards import ShardPlan

COUNT = 3
HOST = HostInfo(python="3.11", platform="Linux", cpus=2, treasure="0.1.0")


def latencies(index: int) -> array[int]:
    """Per-message latencies of very different spreads per shard, seeded."""
    rng = random.Random(index)
    size = (300, 2000, 40)[index]
    return array("q", (int(rng.lognormvariate(10 + index, 0.3 + index)) for _ in range(size)))


def shard_run(index: int, count: int = COUNT, **config: object) -> RunResult:
    values = latencies(index)
    corrected = array("q", (value + 1000 * index for value in values))
    sizes = [(400 + index, len(values) - 1), (900, 1)]
    return RunResult(
        created_at="2026-01-01T00:00:00+00:00",
        backend="spin",
        backend_kind="plugin",
        library="",
        library_version="1",
        config=ReplayConfig(
            backend="spin",
            recording="r.trec",
            shard=f"{index}/{count}",
            pace="rate:900/s",
            **config,  # type: ignore[arg-type]
        ),
        recording=RecordingInfo(
            path="r.trec", messages_measured=len(values), payload_bytes_measured=1, users=9
        ),
        host=HOST,
        messages=len(values),
        errors={"syntax": index, "limit": 1} if index else {},
        error_samples=[ErrorSample(frame_index=100 - index, category="syntax", message="bad")],
        duration_ns=1_000_000_000,
        latency=summarize(values, corrected, keep_histograms=True),
        gc=GcSummary(
            collections=index + 1,
            by_generation=[index, 1, 0],
            collections_per_1k=0.0,
            pause_total_ns=10,
            pause_p99_ns=5 + index,
            pause_max_ns=9 + index,
            pauses_ns=[5 + index] * (index + 1),
        ),
        routed_count=len(values) - index,
        routed_digest=f"d{index}",
        shard=ShardPlan(
            index=index,
            count=count,
            frames=len(values),
            users=3,
            measured_frames=len(values),
            recording_frames=2340,
            recording_digest="c0ffee",
            started_ns=10**18 + index * 1000,
            payload_sizes=sizes,
        ),
    )


def shards(count: int = COUNT) -> list[ShardResult]:
    return [ShardResult(f"shard-{n}.json", shard_run(n, count)) for n in range(count)]


def test_the_merged_histogram_is_the_pooled_one_bucket_by_bucket() -> None:
    merged = merge(shards())

    pooled = [value for n in range(COUNT) for value in latencies(n)]
    expected = histogram_of(pooled)
    assert merged.latency is not None
    found = decode_histogram(merged.latency.hdr)
    assert bucket_counts(found) == bucket_counts(expected)
    assert merged.latency.uncorrected == summarize(array("q", pooled), None).uncorrected
    assert merged.latency.corrected is not None
    pooled_corrected = [v + 1000 * n for n in range(COUNT) for v in latencies(n)]
    assert merged.latency.corrected.p99 == distribution_of(histogram_of(pooled_corrected)).p99


def test_counts_and_errors_add_up_and_process_figures_stay_per_shard() -> None:
    merged = merge(shards())

    assert merged.messages == 2340
    assert merged.errors == {"syntax": 3, "limit": 2}
    assert [s.frame_index for s in merged.error_samples] == [98, 99, 100]
    assert merged.routed_count == 2340 - 3
    assert merged.payload_size is not None
    assert (merged.payload_size.count, merged.payload_size.max) == (2340, 900.0)
    assert merged.gc is not None
    assert (merged.gc.collections, merged.gc.by_generation) == (6, [3, 3, 0])
    assert (merged.gc.pause_max_ns, merged.gc.pause_p99_ns) == (11, 7)
    assert merged.rss is None  # one process's figure: only per shard
    assert merged.shards is not None
    assert [run.messages for run in merged.shards.runs] == [300, 2000, 40]
    assert merged.shards.start_skew_ns == 2000
    assert (merged.config.shard, merged.config.shards) == ("", COUNT)


def test_shards_given_in_any_order_merge_alike() -> None:
    forward, backward = merge(shards()), merge(shards()[::-1])

    assert forward.latency == backward.latency
    assert forward.routed_digest == backward.routed_digest


def heap_rows(index: int) -> list[MessageHeap]:
    return [
        MessageHeap(frame_index=n, payload_bytes=500, allocated_bytes=1000 * index + n,
                    allocations=n % 7, peak_bytes=2000 + 100 * index + n % 13)
        for n in range(10 * (index + 1))
    ]  # fmt: skip


def test_heap_per_message_pools_what_each_shard_kept(tmp_path: Path) -> None:
    parts = shards()
    for n, part in enumerate(parts):
        table = tmp_path / f"heap-{n}.csv"
        write_messages_csv(heap_rows(n), table)
        part.run.heap = HeapSummary(
            measurable=True, traced_messages=10 * (n + 1), users=3,
            artefacts={"heap_per_message_csv": str(table)},
        )  # fmt: skip

    merged = merge(parts)

    pooled = [row for n in range(COUNT) for row in heap_rows(n)]
    assert merged.heap is not None
    assert merged.heap.measurable
    assert merged.heap.traced_messages == len(pooled) == 60
    assert merged.heap.peak_bytes == exact_distribution([row.peak_bytes for row in pooled])
    assert merged.heap.allocated_bytes == exact_distribution(
        [row.allocated_bytes for row in pooled]
    )
    assert merged.heap.amplification == exact_distribution([row.peak_bytes / 500 for row in pooled])


def test_a_heap_without_its_per_message_table_is_not_a_merged_figure(tmp_path: Path) -> None:
    parts = shards()
    for part in parts:
        part.run.heap = HeapSummary(measurable=True, artefacts={})

    merged = merge(parts)

    assert merged.heap is not None
    assert not merged.heap.measurable
    assert "per-message heap figures" in merged.heap.reason


def replaced(part: ShardResult, **changes: object) -> ShardResult:
    return ShardResult(part.source, msgspec.structs.replace(part.run, **changes))


def refusals() -> list[tuple[str, list[ShardResult], str]]:
    ok = shards()
    assert ok[2].run.shard is not None
    other_plan = msgspec.structs.replace(ok[2].run.shard, recording_digest="beef")
    other_config = msgspec.structs.replace(ok[2].run.config, pace="rate:100/s")
    other_hist = HdrHistogram(1, 10**9, 2)
    other_hist.record_value(5)
    assert ok[2].run.latency is not None
    foreign = msgspec.structs.replace(ok[2].run.latency, hdr=encode_histogram(other_hist))
    return [
        ("missing", ok[:2], "shard 2/3 missing"),
        ("duplicate", [*ok, ok[1]], "shard 1/3 is given twice"),
        ("recording", [*ok[:2], replaced(ok[2], shard=other_plan)], "different recordings"),
        ("config", [*ok[:2], replaced(ok[2], config=other_config)], "pace ('rate:900/s'"),
        ("count", [*ok, ShardResult("x.json", shard_run(0, 4))], "a shard of 3, x.json of 4"),
        ("histogram", [*ok[:2], replaced(ok[2], latency=foreign)], "not (1, 3600000000000, 3)"),
        ("no plan", [*ok[:2], replaced(ok[2], shard=None)], "not a shard's result"),
        ("empty", [], "no shard result"),
    ]


@pytest.mark.parametrize(("name", "given", "said"), refusals(), ids=[r[0] for r in refusals()])
def test_shards_that_do_not_fit_are_refused(name: str, given: list[ShardResult], said: str) -> None:
    with pytest.raises(MergeError, match=re.escape(said)):
        merge(given)


def test_the_merge_command_writes_a_result_report_and_gate_read(tmp_path: Path) -> None:
    paths = []
    for part in shards():
        paths.append(tmp_path / part.source)
        save(part.run, paths[-1])
    runner = CliRunner()

    done = runner.invoke(cli, ["merge", *map(str, paths), "-o", str(tmp_path / "m.json")])
    reported = runner.invoke(cli, ["report", str(tmp_path / "m.json"), "--json"])

    assert done.exit_code == 0, done.output
    merged = load(tmp_path / "m.json")
    assert isinstance(merged, RunResult)
    assert merged.messages == 2340
    assert reported.exit_code == 0
    assert '"messages": 2340' in reported.stdout


def test_the_merge_command_refuses_with_one_line(tmp_path: Path) -> None:
    save(shard_run(0), tmp_path / "a.json")

    done = CliRunner().invoke(cli, ["merge", str(tmp_path / "a.json")])

    assert done.exit_code == 3
    assert "shard 1/3, 2/3 missing" in done.stderr
    assert "Traceback" not in done.output
