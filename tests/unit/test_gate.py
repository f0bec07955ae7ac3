"""The gate: budgets held or broken, missing figures as errors, regressions judged with a CI."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import msgspec
import pytest
from tests import builders
from tests.builders import KIB, comparison, distribution, latency_of, recording_of

from treasure.budgets import Budgets, RegressionSettings, parse_budgets
from treasure.gate import (
    Status,
    bootstrap_ratio_of_medians,
    check_budgets,
    check_regressions,
    gate_runs,
    run_gate,
)
from treasure.gate.baseline import merge, strip
from treasure.gate.render import junit_xml, markdown
from treasure.results import CompareResult, HeapSummary, RunResult

BLOCK_SIZE = 50
BLOCKS = 40


def heap_of(bytes_per_message: float, messages: int = 200) -> HeapSummary:
    """A heap pass of a backend allocating a known amount per message (as ground truth does)."""
    return builders.heap_of(
        bytes_per_message,
        traced=messages,
        retained_bytes=distribution([0.0] * messages),
        amplification=distribution([bytes_per_message / 512] * messages),
        timeline=[(i, 1000 + i) for i in range(messages)],
    )


def block_latencies(median_ns: float, seed: int, drift: float = 0.03) -> list[int]:
    """Per-block medians of one timing pass: jitter around `median_ns`, a run-wide drift of a
    few percent (the machine's state) and the odd slow block (another process woke up)."""
    rng = random.Random(seed)
    level = median_ns * rng.uniform(1 - drift, 1 + drift)
    blocks = [rng.gauss(level, 0.05 * level) for _ in range(BLOCKS)]
    return [int(b * (rng.uniform(1.5, 3) if rng.random() < 0.05 else 1)) for b in blocks]


def run_of(
    backend: str = "ground-truth",
    heap: HeapSummary | None = None,
    block_medians: list[int] | None = None,
    frames: int = 2000,
    measured: int | None = None,  # messages measured of the `frames`: all of them by default
) -> RunResult:
    medians = block_medians or block_latencies(200_000, seed=1)
    latency = latency_of(medians, percentile_curve=[(50.0, 1), (99.0, 2)],
                         histogram=[(10, 1)] * 60, block_size=BLOCK_SIZE)  # fmt: skip
    return builders.run(backend, kind="test", library="groundtruth", library_version="0",
               recording=recording_of(measured or frames, frames_in_recording=frames),
               latency=latency, heap=heap)  # fmt: skip


BUDGET_32K = parse_budgets({"budgets": {"heap_peak_p50": "32 KiB"}}, "treasure.toml")


def test_a_backend_allocating_twice_its_budget_breaks_it() -> None:
    # given a ground-truth backend allocating 64 KiB per message against a 32 KiB budget
    runs = gate_runs([("run.json", run_of(heap=heap_of(64 * KIB)))])
    # when checked
    [check] = check_budgets(runs, BUDGET_32K)
    # then the budget is broken with measured vs allowed and what it applies to
    assert check.status is Status.FAIL
    assert (check.backend, check.scenario, check.name) == ("ground-truth", "smoke", "heap_peak_p50")
    assert check.verdict == "measured 64.0 KiB > allowed 32.0 KiB"


def test_a_backend_within_budget_passes() -> None:
    runs = gate_runs([("run.json", run_of(heap=heap_of(16 * KIB)))])
    [check] = check_budgets(runs, BUDGET_32K)
    assert check.status is Status.PASS
    assert check.verdict == "measured 16.0 KiB <= allowed 32.0 KiB"


@pytest.mark.parametrize(
    ("heap", "reason"),
    [
        (None, "no heap pass"),
        (HeapSummary(measurable=False, reason="links mimalloc statically"),
         "heap not measurable: links mimalloc statically"),
    ],
)  # fmt: skip
def test_a_heap_budget_on_an_unmeasured_heap_is_an_error_not_a_pass(
    heap: HeapSummary | None, reason: str
) -> None:
    report = run_gate([("run.json", run_of(heap=heap))], BUDGET_32K)
    [check] = report.checks
    assert check.status is Status.ERROR
    assert check.measured is None
    assert check.verdict.startswith(f"not measured: {reason}")
    assert not report.passed


def test_a_backend_whose_compare_run_failed_breaks_each_of_its_budgets() -> None:
    # given a compare where one backend's pass died
    compare = comparison(
        run_of("fast", heap=heap_of(8 * KIB)),
        baseline="fast",
        failed={"crashy": "worker exited with -9"},
    )
    # when gated
    report = run_gate([("cmp.json", compare)], BUDGET_32K)
    # then the failed backend's budget is an error carrying the reason
    by_backend = {check.backend: check for check in report.checks}
    assert by_backend["fast"].status is Status.PASS
    assert by_backend["crashy"].status is Status.ERROR
    assert "worker exited with -9" in by_backend["crashy"].verdict


def test_junit_holds_one_case_per_budget_per_backend_with_the_failure() -> None:
    # given two budgets and two backends, one of which allocates twice its budget
    budgets = parse_budgets(
        {"budgets": {"heap_peak_p50": "32 KiB", "error_rate": "1%"}}, "treasure.toml"
    )
    compare = comparison(
        run_of("lean", heap=heap_of(16 * KIB)),
        run_of("greedy", heap=heap_of(64 * KIB)),
        baseline="lean",
    )
    # when rendered as JUnit
    suite = ET.fromstring(junit_xml(run_gate([("cmp.json", compare)], budgets))).find("testsuite")
    # then there are four cases, one of them failing with measured vs allowed
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [
        ("treasure.greedy.smoke", "budget heap_peak_p50")
    ]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "measured 64.0 KiB > allowed 32.0 KiB"


def test_markdown_lists_broken_checks_first() -> None:
    report = run_gate(
        [("a.json", run_of("lean", heap=heap_of(16 * KIB))),
         ("b.json", run_of("greedy", heap=heap_of(64 * KIB)))],
        BUDGET_32K,
    )  # fmt: skip
    text = markdown(report)
    assert text.startswith("### \u274c treasure gate: 1 of 2 checks broken")
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert "greedy" in rows[0]
    assert "64.0 KiB" in rows[0]
    assert "lean" in rows[1]


SETTINGS = RegressionSettings()


def regression_verdict(current: list[int], baseline: list[int]) -> Status:
    [gate_run] = gate_runs([("run.json", run_of(block_medians=current))])
    [check] = check_regressions([gate_run], [run_of(block_medians=baseline)], SETTINGS)
    return check.status


def test_unchanged_code_passes_twenty_timing_gates_out_of_twenty() -> None:
    # given 20 pairs of timing passes of the same code (same median, fresh noise each time)
    verdicts = [
        regression_verdict(block_latencies(200_000, seed=2 * i),
                           block_latencies(200_000, seed=2 * i + 1))
        for i in range(20)
    ]  # fmt: skip
    # then every gate passes
    assert verdicts == [Status.PASS] * 20


def test_a_twofold_slowdown_fails_every_time() -> None:
    verdicts = [
        regression_verdict(block_latencies(400_000, seed=2 * i),
                           block_latencies(200_000, seed=2 * i + 1))
        for i in range(20)
    ]  # fmt: skip
    assert verdicts == [Status.FAIL] * 20


def test_the_bootstrap_verdict_is_reproducible_and_brackets_the_ratio() -> None:
    current, baseline = block_latencies(300_000, seed=5), block_latencies(200_000, seed=6)
    first = bootstrap_ratio_of_medians(current, baseline, seed=7)
    again = bootstrap_ratio_of_medians(current, baseline, seed=7)
    assert first == again
    assert first.low < first.ratio < first.high
    assert first.low < 1.5 < first.high


def test_a_latency_regression_reads_with_its_interval() -> None:
    [gate_run] = gate_runs([("run.json", run_of(block_medians=block_latencies(400_000, 3)))])
    [check] = check_regressions([gate_run], [run_of()], SETTINGS)
    assert check.status is Status.FAIL
    assert check.verdict.startswith("measured ")
    assert "> allowed 1.10\u00d7" in check.verdict
    assert "95% CI" in check.verdict


@pytest.mark.parametrize(
    ("now", "status"),
    [(100 * KIB, Status.PASS), (101 * KIB, Status.PASS), (105 * KIB, Status.FAIL)],
)
def test_heap_regression_uses_a_small_tolerance(now: int, status: Status) -> None:
    # given a baseline at 100 KiB per message and the default 2 % tolerance
    [gate_run] = gate_runs([("run.json", run_of(heap=heap_of(now)))])
    checks = check_regressions([gate_run], [run_of(heap=heap_of(100 * KIB))], SETTINGS)
    heap_checks = [check for check in checks if check.name.startswith("heap_")]
    assert [check.status for check in heap_checks] == [status] * len(SETTINGS.heap_metrics)


def test_a_baseline_with_heap_needs_heap_in_the_current_run() -> None:
    [gate_run] = gate_runs([("run.json", run_of(heap=HeapSummary(measurable=False, reason="x")))])
    checks = check_regressions([gate_run], [run_of(heap=heap_of(100 * KIB))], SETTINGS)
    assert {check.status for check in checks if check.name.startswith("heap_")} == {Status.ERROR}


@pytest.mark.parametrize(
    ("baseline", "reason"),
    [
        (run_of("other"), "the baseline has no run of backend 'ground-truth'"),
        (run_of(frames=3000), "the baseline replayed another recording"),
        (run_of(measured=1500), "the baseline measured other messages"),
        (run_of(block_medians=[1, 2, 3]), "too few latency blocks"),
    ],
)
def test_a_regression_that_cannot_be_judged_is_an_error(baseline: RunResult, reason: str) -> None:
    [gate_run] = gate_runs([("run.json", run_of())])
    checks = check_regressions([gate_run], [baseline], SETTINGS)
    assert [check.status for check in checks] == [Status.ERROR]
    assert reason in checks[0].verdict


def test_a_baseline_keeps_what_the_gate_reads_and_drops_the_bulk() -> None:
    # given a full result with curves, histograms and a heap timeline
    full = run_of(heap=heap_of(64 * KIB))
    # when stripped
    small = strip(full)
    assert isinstance(small, RunResult)
    # then it is smaller and every gate figure is unchanged
    assert len(msgspec.json.encode(small)) < len(msgspec.json.encode(full)) * 0.6
    assert small.heap is not None
    assert small.latency is not None
    assert (small.heap.timeline, small.latency.histogram) == ([], [])
    assert small.latency.block_medians_ns == full.latency.block_medians_ns  # type: ignore[union-attr]
    assert (
        run_gate([("b", small)], BUDGET_32K).checks == run_gate([("b", small)], BUDGET_32K).checks
    )
    assert check_budgets(gate_runs([("r", small)]), BUDGET_32K)[0].measured == (
        check_budgets(gate_runs([("r", full)]), BUDGET_32K)[0].measured
    )


def test_updating_a_baseline_replaces_only_the_backends_rerun() -> None:
    previous = comparison(
        run_of("a", heap=heap_of(KIB)), run_of("b", heap=heap_of(KIB)), baseline="a"
    )
    merged = merge(previous, run_of("b", heap=heap_of(2 * KIB)))
    assert isinstance(merged, CompareResult)
    peaks = {run.backend: run.heap.peak_bytes.p50 for run in merged.runs}  # type: ignore[union-attr]
    assert peaks == {"a": KIB, "b": 2 * KIB}


def test_an_empty_budget_set_with_a_baseline_checks_regressions_only() -> None:
    report = run_gate([("run.json", run_of())], Budgets(), ("base.json", run_of()))
    assert [check.kind for check in report.checks] == ["regression"]
    assert report.passed


def routed(run: RunResult, count: int, digest: str, errors: int) -> RunResult:
    run.routed_count, run.routed_digest = count, digest
    run.errors = {"schema": errors} if errors else {}
    return run


def test_a_latency_ratio_against_a_baseline_that_routed_other_messages_is_an_error() -> None:
    # given the same recording, but a run in which 300 more messages failed than the baseline
    [gate_run] = gate_runs([("run.json", routed(run_of(), 1700, "b" * 64, 300))])
    baseline = routed(run_of(), 2000, "a" * 64, 0)
    # when the regression is judged
    [check] = check_regressions([gate_run], [baseline], SETTINGS)
    # then no speed ratio is claimed between the two
    assert check.status is Status.ERROR
    assert "routed 1700 of 2000 messages, the baseline 2000 of 2000" in check.verdict


def test_failures_both_runs_share_are_said_beside_the_latency_ratio() -> None:
    [gate_run] = gate_runs([("run.json", routed(run_of(), 1900, "c" * 64, 100))])
    [check] = check_regressions([gate_run], [routed(run_of(), 1900, "c" * 64, 100)], SETTINGS)
    assert check.status is Status.PASS
    assert "100 of 2000 messages failed in both" in check.verdict
