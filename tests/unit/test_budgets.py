"""Budget files: units as people write them, levels that override, metrics read from results."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.builders import distribution, gc_of, recording_of, rss_of, run

from treasure.budgets import RegressionSettings, find_budget_file, load_budgets
from treasure.errors import BudgetError, ExitCode
from treasure.metrics import METRICS, Unmeasured
from treasure.quantities import Unit, format_quantity, parse_quantity
from treasure.results import HeapSummary, LatencySummary, RunResult


def run_result(heap: HeapSummary | None = None, errors: int = 0) -> RunResult:
    latency = [float(1000 + i) for i in range(1000)]
    return run(
        recording=recording_of(1000, path="smoke.trec", scenario=""),
        errors={"syntax": errors} if errors else {},
        latency=LatencySummary(uncorrected=distribution(latency)),
        gc=gc_of(pause_total_ns=9000, pause_p99_ns=4000, pause_max_ns=5000),
        rss=rss_of(120.0, start_bytes=1 << 20, end_bytes=2 << 20, peak_bytes=3 << 20,
                   samples=[(i * 1000, (1 << 20) + i * 120_000) for i in range(1, 6)]),
        heap=heap,
    )  # fmt: skip


def measured_heap() -> HeapSummary:
    peaks = [float(64 * 1024 + i) for i in range(100)]
    return HeapSummary(
        measurable=True,
        traced_messages=100,
        allocated_bytes=distribution([p * 3 for p in peaks]),
        peak_bytes=distribution(peaks),
        retained_bytes=distribution([16.0] * 100),
        amplification=distribution([p / 512 for p in peaks]),
        peak_heap_at_users_bytes=50 << 20,
    )


@pytest.mark.parametrize(
    ("written", "unit", "expected"),
    [
        ("32 KiB", Unit.BYTES, 32 * 1024),
        ("32KiB", Unit.BYTES, 32 * 1024),
        ("1.5 MB", Unit.BYTES, 1_500_000),
        ("2 MiB", Unit.BYTES, 2 * 1024 * 1024),
        ("512 B", Unit.BYTES, 512),
        ("12 ms", Unit.NANOSECONDS, 12_000_000),
        ("250 us", Unit.NANOSECONDS, 250_000),
        ("250 \u00b5s", Unit.NANOSECONDS, 250_000),  # micro sign
        ("250 \u03bcs", Unit.NANOSECONDS, 250_000),  # Greek mu
        ("1.5 s", Unit.NANOSECONDS, 1_500_000_000),
        ("3%", Unit.FRACTION, 0.03),
        ("0.5 %", Unit.FRACTION, 0.005),
        ("8192x", Unit.TIMES, 8192),
        (200, Unit.TIMES, 200),
        (2.5, Unit.COUNT, 2.5),
        (0, Unit.BYTES, 0),
        ("0 ms", Unit.NANOSECONDS, 0),
    ],
)
def test_quantities_read_as_people_write_them(
    written: str | float, unit: Unit, expected: float
) -> None:
    # given a quantity as written in a budget file / when parsed / then it is in base units
    assert parse_quantity(written, unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("written", "unit", "complaint"),
    [
        ("32 KiB/s", Unit.BYTES, "unknown unit 'KiB/s'"),
        ("12", Unit.NANOSECONDS, "needs a unit"),
        (12, Unit.NANOSECONDS, "needs a unit"),
        (32768, Unit.BYTES, "needs a unit"),
        ("3", Unit.FRACTION, "needs a unit"),
        ("12 ms", Unit.BYTES, "unknown unit 'ms'"),
        ("lots", Unit.BYTES, "not a quantity"),
        (-1, Unit.COUNT, "negative"),
    ],
)
def test_bad_quantities_name_what_is_wrong(
    written: str | float, unit: Unit, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_quantity(written, unit)


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (32 * 1024, Unit.BYTES, "32.0 KiB"),
        (100, Unit.BYTES, "100 B"),
        (12_300_000, Unit.NANOSECONDS, "12.3 ms"),
        (250_000, Unit.NANOSECONDS, "250.0 \u00b5s"),
        (0.005, Unit.FRACTION, "0.50%"),
        (8192, Unit.TIMES, "8192\u00d7"),
    ],
)
def test_figures_are_shown_in_human_units(value: float, unit: Unit, shown: str) -> None:
    assert format_quantity(value, unit) == shown


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_most_specific_level_wins(tmp_path: Path) -> None:
    # given defaults, a scenario, a backend and a backend-on-scenario override
    budgets = load_budgets(
        write(
            tmp_path / "treasure.toml",
            """
[budgets]
heap_peak_p99 = "128 KiB"
latency_p99 = "12 ms"
error_rate = "0%"

[budgets.scenario.smoke]
latency_p99 = "20 ms"

[budgets.backend.rust-serde]
heap_peak_p99 = "32 KiB"
error_rate = false

[budgets.backend.rust-serde.scenario.smoke]
latency_p99 = "1 ms"
""",
        )
    )

    def allowed(backend: str, scenario: str) -> dict[str, float]:
        return {lim.metric.name: lim.allowed for lim in budgets.for_run(backend, scenario)}

    # then each run gets the limits of its most specific level, and `false` switches one off
    assert allowed("pyyaml-dom", "soak") == {
        "heap_peak_p99": 128 * 1024, "latency_p99": 12e6, "error_rate": 0.0}  # fmt: skip
    assert allowed("pyyaml-dom", "smoke")["latency_p99"] == 20e6
    assert allowed("rust-serde", "soak") == {"heap_peak_p99": 32 * 1024, "latency_p99": 12e6}
    assert allowed("rust-serde", "smoke") == {"heap_peak_p99": 32 * 1024, "latency_p99": 1e6}


def test_budgets_live_under_tool_treasure_in_pyproject(tmp_path: Path) -> None:
    # given a pyproject.toml with [tool.treasure] and no treasure.toml
    write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "router"

[tool.treasure.budgets]
heap_allocated_p50 = "300 KiB"

[tool.treasure.regression]
heap_tolerance = "5%"
latency_threshold = "15%"
""",
    )
    # when found and loaded
    found = find_budget_file(tmp_path)
    assert found == tmp_path / "pyproject.toml"
    budgets = load_budgets(found)
    # then the budgets and the regression settings are read
    assert [lim.allowed for lim in budgets.for_run("any", "any")] == [300 * 1024]
    assert budgets.regression.heap_tolerance == pytest.approx(0.05)
    assert budgets.regression.latency_threshold == pytest.approx(0.15)
    assert budgets.regression.seed == RegressionSettings().seed


def test_treasure_toml_is_found_before_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.treasure.budgets]\nlatency_p99 = '1 ms'\n")
    write(tmp_path / "treasure.toml", "[budgets]\nlatency_p99 = '2 ms'\n")
    assert find_budget_file(tmp_path) == tmp_path / "treasure.toml"


def test_a_pyproject_without_tool_treasure_is_not_a_budget_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'router'\n")
    assert find_budget_file(tmp_path) is None
    with pytest.raises(BudgetError, match=r"no \[tool.treasure\] table"):
        load_budgets(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[budgets]\nheap_peek_p99 = '1 KiB'\n",
         r"\[budgets\] unknown metric 'heap_peek_p99' \(did you mean heap_peak_p99\?\)"),
        ("[budgets]\nlatency_p99 = '12 parsecs'\n",
         r"latency_p99 = '12 parsecs': unknown unit 'parsecs'"),
        ("[budgets.backend.rust-serde]\nheap_peak_p99 = 32768\n",
         r"\[budgets.backend.rust-serde\] heap_peak_p99 = 32768: needs a unit"),
        ("[budgets]\nlatency_p99 = true\n", "expected a quantity"),
        ("[budget]\nlatency_p99 = '1 ms'\n", r"unknown table \[budget\]"),
        ("[budgets\n", "not valid TOML"),
        ("[regression]\nnoise = '10%'\n", "unknown setting 'noise'"),
        ("[regression]\nheap_metrics = ['latency_p99']\n", "not a heap metric"),
        ("[regression]\nconfidence = '20%'\n", "confidence must lie between"),
    ],
)  # fmt: skip
def test_a_bad_budget_file_is_one_clear_line_with_exit_code_3(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = write(tmp_path / "treasure.toml", text)
    with pytest.raises(BudgetError, match=complaint) as caught:
        load_budgets(path)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("heap_peak_p50", 64 * 1024 + 49),
        ("heap_peak_max", 64 * 1024 + 99),
        ("heap_allocated_p99", (64 * 1024 + 98) * 3),
        ("heap_retained_mean", 16),
        ("amplification_p50", (64 * 1024 + 49) / 512),
        ("peak_heap_at_users", 50 << 20),
        ("latency_p50", 1000 + 499),
        ("latency_max", 1000 + 999),
        ("gc_per_1k", 3.0),
        ("gc_pause_max", 5000),
        ("error_rate", 0.025),
        ("rss_growth_per_message", 120.0),
        ("rss_peak", 3 << 20),
    ],
)
def test_each_metric_reads_its_field_of_the_result(name: str, expected: float) -> None:
    # given a result built from known samples
    run = run_result(heap=measured_heap(), errors=25)
    # when the metric is read / then it is the figure of the field it names
    assert METRICS[name].read(run) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("run", "name", "reason"),
    [
        (run_result(heap=None), "heap_peak_p50", "no heap pass"),
        (run_result(heap=HeapSummary(measurable=False, reason="links mimalloc statically")),
         "heap_peak_p99", "heap not measurable: links mimalloc statically"),
        (run_result(heap=HeapSummary(measurable=False)), "amplification_max", "not measurable"),
        (run_result(heap=measured_heap()), "latency_corrected_p99", "not paced"),
        (RunResult(**{**{f: getattr(run_result(), f) for f in RunResult.__struct_fields__},
                      "latency": None}), "latency_p99", "no timing pass"),
    ],
)  # fmt: skip
def test_a_missing_figure_is_unmeasured_never_zero(run: RunResult, name: str, reason: str) -> None:
    with pytest.raises(Unmeasured, match=reason):
        METRICS[name].read(run)
