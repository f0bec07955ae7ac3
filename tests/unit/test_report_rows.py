"""The report's rows: every figure with its spread, readable at 80, 100 and 160 columns,
the same in every renderer, formatted by the one source the gate uses too."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Protocol

import pytest
from tests.unit.report_results import comparison, run

from treasure.gate.checks import Check, Status
from treasure.quantities import Unit
from treasure.report.html import HtmlRenderer
from treasure.report.rows import Report, build_report
from treasure.report.spread import speed_up, time_per_message
from treasure.report.tables import memory_table
from treasure.report.terminal import TerminalRenderer
from treasure.results import Result

GOLDEN = Path(__file__).parent / "golden" / "compare_rows.txt"
BACKENDS = (
    "pyyaml-dom",
    "pyyaml-dom-pure",
    "ruamel-dom",
    "pyyaml-stream",
    "msgspec-typed",
    "rust-serde",
    "rust-events",
    "rust-fastyaml",
)


class Renderer(Protocol):
    def render(self, result: Result) -> str: ...


def table(report: Report, key: str) -> dict[str, dict[str, str]]:
    """One table of the report as {backend: {header: cell}}."""
    found = next(t for t in report.tables if t.key == key)
    headers = [column.header for column in found.columns]
    return {row[0]: dict(zip(headers, row, strict=True)) for row in found.rows}


@pytest.mark.parametrize("width", [80, 100, 160])
def test_every_name_and_figure_is_whole_at_each_width(width: int) -> None:
    # given a comparison of every built-in backend
    result = comparison()
    # when it is printed at the width of a terminal
    lines = TerminalRenderer(width).render(result).splitlines()
    # then no line is wider than the terminal, nothing is cut to an ellipsis
    assert max(len(line) for line in lines) <= width
    assert not any("…" in line for line in lines)
    # and every backend name and every cell of every table stands whole on one line
    for cell in [*BACKENDS, *build_report(result).cells()]:
        assert any(cell in line for line in lines), f"{cell!r} is not whole at {width} columns"


@pytest.mark.parametrize(
    "renderer", [TerminalRenderer(100), HtmlRenderer()], ids=["terminal", "html"]
)
@pytest.mark.parametrize("result", [comparison(), run("rust-serde", "rust", 20_000, 1_500)])
def test_every_renderer_shows_the_same_rows(renderer: Renderer, result: Result) -> None:
    # given the rows of a result
    report = build_report(result)
    # when a renderer draws it
    shown = renderer.render(result)
    if isinstance(renderer, HtmlRenderer):
        shown = shown.replace("&#x27;", "'")
        cells = [f">{escape(cell, quote=False)}<" for cell in report.cells()]
    else:
        cells = report.cells()
    # then it shows the headline, every table's title (wrapped, perhaps) and every cell
    words = " ".join(shown.split())
    for text in (report.headline, *(t.title for t in report.tables)):
        assert escape(text, quote=False) in words or text in words
    missing = [cell for cell in cells if cell not in shown]
    assert not missing


def rows_as_text(report: Report) -> str:
    """The report's cells padded to fixed column widths by us: a golden file a reviewer can
    read in a diff, independent of any library's drawing."""
    lines = [report.title, report.headline]
    for found in report.tables:
        grid = [tuple(column.header for column in found.columns), *found.rows]
        widths = [max(len(row[i]) for row in grid) for i in range(len(found.columns))]
        lines += ["", f"[{found.key}] {found.title}"]
        lines += [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                  for row in grid]  # fmt: skip
        lines += [f"  note: {note}" for note in found.notes]
    lines += [f"failed: {name}: {why}" for name, why in report.failed.items()]
    return "\n".join(lines) + "\n"


def test_the_rows_match_the_golden_file() -> None:
    # given the fixed comparison
    # when its rows are written out at fixed widths
    text = rows_as_text(build_report(comparison()))
    if os.environ.get("TREASURE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, "utf-8")
    # then they are the reviewed ones (TREASURE_UPDATE_GOLDEN=1 rewrites the file)
    assert text == GOLDEN.read_text("utf-8")


def test_a_speed_up_shows_its_interval_and_the_headline_says_it() -> None:
    # given rust-serde at 20 µs and pyyaml-dom at 240 µs, blocks moving ±3 % around them
    report = build_report(comparison())
    speed = table(report, "speed")
    # then its speed-up is 12×, with an interval around it that excludes 1
    assert speed["rust-serde"]["speed-up"] == "12.0×"
    low, high = speed["rust-serde"]["95 % CI"].rstrip("×").split("\u2013")
    assert 11.0 < float(low) < 12.0 < float(high) < 13.0
    assert speed["rust-serde"]["p50/msg"] == "20.0 µs"
    # and the headline names the fastest backend with its heap ratio (98.5 KB / 1.35 KB)
    assert report.headline == (
        "rust-events: 12.3× faster, 73.0× less heap per message than pyyaml-dom on "
        "blowup-12k, 12,000 users"
    )


def test_a_ratio_within_noise_is_marked_and_explained() -> None:
    # given msgspec-typed at 245 µs against 240 µs, its blocks moving ±25 %
    report = build_report(comparison())
    # then its ratio is marked and a note says the interval contains 1
    cell = table(report, "speed")["msgspec-typed"]["speed-up"]
    assert cell.endswith("?")
    notes = next(t for t in report.tables if t.key == "speed").notes
    assert any(n.startswith("msgspec-typed ?") and "contains 1×" in n for n in notes)
    estimate = speed_up(comparison().runs[4], comparison().runs[0])
    assert estimate is not None
    assert estimate.noisy
    assert estimate.low < 1 < estimate.high


def test_errors_stand_beside_the_ratio_and_different_work_is_no_speed_up() -> None:
    # given pyyaml-stream failing on 36 of 3,000 messages, the baseline on none
    report = build_report(comparison())
    row = table(report, "speed")["pyyaml-stream"]
    # then its errors are beside its ratio, and the ratio is not called a speed-up
    assert row["errors"] == "36 (1%)"
    assert row["speed-up"] == "n/c"
    notes = next(t for t in report.tables if t.key == "speed").notes
    assert any("pyyaml-stream: not a speed-up" in n and "2,964 of 3,000" in n for n in notes)
    assert any("schema 6, syntax 30" in n for n in notes)


def test_time_per_message_interval_holds_the_block_median() -> None:
    # given blocks of 240 µs ±3 %
    found = time_per_message(comparison().runs[0])
    # then the median lies inside an interval no wider than the jitter
    assert found is not None
    assert found.low <= 240_000 <= found.high
    assert found.low >= 0.97 * 240_000
    assert found.high <= 1.03 * 240_000


def test_columns_with_nothing_measured_are_dropped() -> None:
    # given runs without pacing (no corrected latency) and without CPU passes but one
    report = build_report(comparison())
    headers = {c.header for t in report.tables for c in t.columns}
    # then no column of dashes is shown
    assert "p99 corrected" not in headers
    for report_table in report.tables:
        for index in range(1, len(report_table.columns)):
            assert any(row[index] != "-" for row in report_table.rows)


def test_a_figure_reads_the_same_in_the_report_and_the_gate() -> None:
    # given a GC pause of 1.23 ms in a run, and a gate check on the same figure
    report = build_report(comparison())
    shown = table(report, "memory")["pyyaml-dom"]["GC pause max"]
    check = Check(
        "budget", "gc_pause_max", "GC pause max", "pyyaml-dom", "blowup-12k", Status.PASS,
        Unit.NANOSECONDS, measured=1_230_000, allowed=2_000_000,
    )  # fmt: skip
    # then both write it alike
    assert shown == "1.2 ms"
    assert check.verdict.startswith(f"measured {shown} ")


def test_the_run_peak_names_the_session_settings_that_produced_it() -> None:
    report = build_report(comparison())
    notes = next(t for t in report.tables if t.key == "memory").notes
    assert notes == ("run peak: the heap pass's peak live heap with --users 12000 --keep record "
                     "--in-flight 1",)  # fmt: skip


def test_an_unmeasurable_heap_says_so_with_its_reason() -> None:
    report = build_report(comparison())
    assert table(report, "heap")["rust-fastyaml"]["peak p50"] == "not measurable"
    notes = next(t for t in report.tables if t.key == "heap").notes
    assert "rust-fastyaml: heap not measurable: links its own allocator statically" in notes


def test_no_collection_shows_no_pause_rather_than_a_zero_one() -> None:
    # given a run whose timing pass triggered no GC collection
    quiet = run("rust-serde", "rust", 20_000, 1_500)
    assert quiet.gc is not None
    quiet.gc.collections, quiet.gc.pause_max_ns = 0, 0
    # then its GC pause reads "none", not a measured "0 ns"
    assert table(build_report(comparison()), "memory")["rust-serde"]["GC pause max"] == "1.2 ms"
    rows = memory_table([("rust-serde", quiet)]).rows
    assert rows[0][3] == "none"


@pytest.mark.parametrize("renderer", [TerminalRenderer(width=100), HtmlRenderer()])
def test_a_comparison_in_which_every_backend_failed_renders_its_failures(
    renderer: Renderer,
) -> None:
    # given a comparison whose only backends both failed before measuring anything
    result = comparison()
    result.runs = []
    result.failed = {"rust-scan": "takes no routing= keyword", "yaml-rs": "signal 6"}
    # when it is reported
    report = build_report(result)
    shown = renderer.render(result)
    # then the headline says nothing was measured and names the failures, no table is drawn
    assert report.headline == "no backend was measured: 2 failed (rust-scan, yaml-rs)"
    assert report.tables == ()
    assert "takes no routing= keyword" in shown
