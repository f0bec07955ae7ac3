"""A sweep result built by hand: its per-point table, knee sentences, terminal bars and the
HTML figure's traces, its file round trip, and how a point's messages are planned."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from tests.unit import report_results

from treasure import results
from treasure.cli import cli
from treasure.errors import ResultError
from treasure.growth.sweep import (
    PointFigures,
    SweepPoint,
    SweepResult,
    figures_of,
    knees_of,
    load_any,
    save,
)
from treasure.report.sweep import (
    CHART_WIDTH,
    bars,
    chart_lines,
    knee_figure,
    knee_sentence,
    points_table,
    sweep_report,
)
from treasure.report.terminal import render
from treasure.results import ReplayConfig, RunResult
from treasure.runner.sweep import UsersSeen, plan_point, point_config

KIB = 1024
USERS = [1000, 2000, 4000, 8000, 12000]
CONFIG = ReplayConfig(backend="pyyaml-dom", recording="runs/blowup-12k.trec", keep="document")


def figures(heap: float, rss: float) -> PointFigures:
    return PointFigures(
        messages=1000, errors=0, peak_heap_bytes=int(heap), rss_peak_bytes=int(rss),
        rss_growth_bytes=3 << 20, rss_growth_per_message_bytes=12.5, gc_per_1k=3.25,
        gc_pause_max_ns=2_000_000, latency_p99_ns=250_000.0,
    )  # fmt: skip


def sweep_of(heap_per_user: list[float], failed: int | None = None) -> SweepResult:
    """Heap bends at 4,000 users (4 KiB per user, then 16 KiB); RSS is 4 KiB per user."""
    points = []
    for users in USERS:
        heap = 1e6 + heap_per_user[0] * min(users, 4000) + heap_per_user[1] * max(0, users - 4000)
        point = SweepPoint(users=users, users_held=users, frames=users, config=CONFIG)
        if users == failed:
            point.error = "timing pass failed: exited with 137"
        else:
            point.figures = figures(heap, 30e6 + 4 * KIB * users)
        points.append(point)
    sweep = SweepResult(
        created_at="2026-01-01T00:00:00+00:00", backend="pyyaml-dom", config=CONFIG,
        points=points, complete=True,
    )  # fmt: skip
    sweep.knees = knees_of(sweep)
    return sweep


BENT = sweep_of([4 * KIB, 16 * KIB])


def test_each_figure_gets_its_verdict_and_slopes_in_bytes_per_user() -> None:
    heap, rss = BENT.knees

    assert (heap.metric, heap.verdict, heap.knee_at) == ("peak_heap_bytes", "knee", 4000)
    assert heap.slope_before == pytest.approx(4 * KIB)
    assert heap.slope_after == pytest.approx(16 * KIB)
    assert (rss.metric, rss.verdict) == ("rss_peak_bytes", "linear throughout")
    assert rss.line is not None
    assert rss.line.slope == pytest.approx(4 * KIB)


def test_knee_sentences_give_the_knee_the_slopes_and_their_ratio() -> None:
    heap, rss = BENT.knees

    assert knee_sentence(BENT, heap) == (
        "run peak heap bends at 4,000 users: 4.0 KiB per user before, 16.0 KiB after (4.00×)"
    )
    assert knee_sentence(BENT, rss) == "peak RSS is linear throughout: 4.0 KiB per user"


def test_the_points_table_has_a_row_per_point_with_its_figures() -> None:
    table = points_table(BENT)

    assert [row[0] for row in table.rows] == ["1,000", "2,000", "4,000", "8,000", "12,000"]
    assert table.rows[2][3:] == ("16.6 MiB", "44.2 MiB", "3.0 MiB", "3.2", "250.0 µs")


def test_a_failed_point_is_a_row_marked_failed_and_a_note_with_its_error() -> None:
    sweep = sweep_of([4 * KIB, 16 * KIB], failed=8000)
    table = points_table(sweep)

    assert table.rows[3][:3] == ("8,000", "8,000", "failed")
    assert set(table.rows[3][3:]) == {"-"}
    assert "8,000 users failed: timing pass failed: exited with 137" in table.notes
    assert sweep.knees[0].points == 4  # fitted over the points that measured it


def test_bars_are_scaled_to_the_largest_and_the_knee_is_marked_at_its_point() -> None:
    drawn = bars(BENT, "peak_heap_bytes")
    heaps = [
        p.figures.peak_heap_bytes for p in BENT.points if p.figures and p.figures.peak_heap_bytes
    ]

    assert [bar.value for bar in drawn] == heaps
    assert drawn[-1].length == CHART_WIDTH
    assert [bar.length for bar in drawn] == [round(h / heaps[-1] * CHART_WIDTH) for h in heaps]
    assert [bar.knee for bar in drawn] == [False, False, True, False, False]
    assert [bar.knee for bar in bars(BENT, "rss_peak_bytes")] == [False] * 5


def test_a_knee_between_two_points_is_drawn_as_a_line_between_their_bars() -> None:
    points = [
        SweepPoint(users=u, users_held=u, frames=u, config=CONFIG,
                   figures=figures(1e6 + 4 * KIB * min(u, 5000) + 16 * KIB * max(0, u - 5000), 1e6))
        for u in USERS
    ]  # fmt: skip
    sweep = SweepResult(created_at="", backend="b", config=CONFIG, points=points)
    sweep.knees = knees_of(sweep)
    lines = chart_lines(sweep, "peak_heap_bytes")

    assert sweep.knees[0].knee_at == pytest.approx(5000)
    assert [line.split()[0] for line in lines[1:]] == [
        "1,000", "2,000", "4,000", "\u25c0", "8,000", "12,000",
    ]  # fmt: skip
    assert "knee at 5,000 users" in lines[4]


def test_the_plot_holds_the_points_both_fitted_segments_and_the_knee() -> None:
    figure = knee_figure(BENT, "peak_heap_bytes")
    assert figure is not None
    measured, before, after, knee = figure.data
    mib = 1024.0**2

    assert list(measured.x) == USERS
    assert list(before.x) == [1000, 4000]
    assert list(after.x) == [4000, 12000]
    assert after.y[1] - after.y[0] == pytest.approx(16 * KIB * 8000 / mib)
    assert before.y[1] - before.y[0] == pytest.approx(4 * KIB * 3000 / mib)
    assert list(knee.x) == [4000]


def test_a_linear_figure_is_plotted_with_its_one_line() -> None:
    figure = knee_figure(BENT, "rss_peak_bytes")
    assert figure is not None

    assert len(figure.data) == 2
    assert list(figure.data[1].x) == [1000, 12000]


def test_the_terminal_report_shows_the_table_the_knees_and_the_charts() -> None:
    out = io.StringIO()
    render(BENT, Console(file=out, width=120, color_system=None))
    text = out.getvalue()

    assert sweep_report(BENT).headline.startswith("run peak heap bends at 4,000 users")
    assert "knee at 4,000 users" in text
    assert "linear throughout" in text
    assert "run peak heap by users held" in text
    assert "peak RSS by users held" in text


def test_a_sweep_file_loads_back_as_a_sweep(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    save(BENT, path)

    loaded = load_any(path)

    assert isinstance(loaded, SweepResult)
    assert loaded.knees == BENT.knees
    assert loaded.points[2].config.keep == "document"


def test_another_schema_version_of_a_sweep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    save(BENT, path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "schema_version": 99}))

    with pytest.raises(ResultError, match="schema version 99"):
        load_any(path)


def test_replay_results_still_load_as_runs_and_others_are_refused_as_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.json"
    results.save(report_results.run("pyyaml-dom", "dom", 200_000, 100 * KIB), path)
    (tmp_path / "list.json").write_text("[1, 2]")

    assert isinstance(load_any(path), RunResult)
    with pytest.raises(ResultError, match="not a treasure result"):
        load_any(tmp_path / "list.json")


def test_a_points_figures_come_from_its_run() -> None:
    run = report_results.run("pyyaml-dom", "dom", 200_000, 100 * KIB)
    assert run.heap is not None
    assert run.heap.peak_heap_at_users_bytes is not None

    found = figures_of(run)

    assert found.peak_heap_bytes == run.heap.peak_heap_at_users_bytes
    assert (found.rss_peak_bytes, found.rss_growth_per_message_bytes) == (32 << 20, 120.0)
    assert found.rss_growth_bytes is None  # one sample (none kept here): no growth
    assert (found.gc_per_1k, found.gc_pause_max_ns) == (1.0, 1_230_000)
    assert found.latency_p99_ns == 400_000.0
    assert (found.messages, found.errors) == (3000, 0)


def test_report_renders_a_saved_sweep_as_tables_html_and_json(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    save(sweep_of([4 * KIB, 16 * KIB], failed=12000), path)
    runner = CliRunner()

    shown = runner.invoke(cli, ["report", str(path)])
    html = runner.invoke(cli, ["report", str(path), "--html", str(tmp_path / "s.html")])
    as_json = runner.invoke(cli, ["report", str(path), "--json"])

    assert shown.exit_code == 0, shown.output
    assert "run peak heap bends at 4,000 users" in shown.stdout
    assert "12,000 users failed" in shown.stdout
    assert html.exit_code == 0, html.output
    page = (tmp_path / "s.html").read_text()
    assert "plot-sweep-peak-heap-bytes-0" in page
    assert "knee at 4,000 users" in page
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["kind"] == "sweep"


SEEN = UsersSeen(first_frames=[0, 1, 2, 5, 9, 20], frames=30)


def test_a_point_replays_up_to_its_last_new_users_first_message() -> None:
    plan = plan_point(4, SEEN, warmup=1, limit=None)

    assert (plan.users_held, plan.frames, plan.limit, plan.note) == (4, 6, 5, "")


def test_a_point_beyond_the_recordings_users_holds_what_it_has_and_says_so() -> None:
    plan = plan_point(10, SEEN, warmup=1, limit=None)

    assert (plan.users_held, plan.frames, plan.limit) == (6, 30, 29)
    assert plan.note == "the recording holds only 6 distinct users in 30 messages"


def test_a_limit_stops_a_point_early_and_says_so() -> None:
    plan = plan_point(6, SEEN, warmup=1, limit=4)

    assert (plan.users_held, plan.frames, plan.limit) == (3, 5, 4)
    assert plan.note == "--limit 4 stops the point at 3 users"


def test_a_warmup_that_would_pass_the_users_asked_for_is_cut_short() -> None:
    plan = plan_point(2, SEEN, warmup=10, limit=None)
    config = point_config(ReplayConfig(backend="b", recording="r", warmup=10), plan)

    assert (plan.users_held, plan.frames, plan.limit, plan.warmup) == (2, 2, 1, 1)
    assert plan.note == "warm-up cut to 1 of 10 messages, which reach more users"
    assert (config.warmup, config.limit) == (1, 1)


def test_a_points_config_keeps_its_users_and_traces_a_stateless_run_whole() -> None:
    plan = plan_point(4, SEEN, warmup=1, limit=None)
    stateless = point_config(ReplayConfig(backend="b", recording="r", heap_messages=2), plan)
    kept = point_config(
        ReplayConfig(backend="b", recording="r", keep="record", heap_messages=2), plan
    )

    assert (stateless.users, stateless.limit, stateless.heap) == (4, 5, True)
    assert stateless.heap_messages == 5
    assert kept.heap_messages == 2


def rate_sweep() -> SweepResult:
    """p99 from intended send flat at 2 ms up to 4,000 msg/s, then 1 µs more per msg/s."""
    points = []
    for rate in USERS:
        latency = 2e6 + 1000.0 * max(0, rate - 4000)
        found = figures(0, 0)
        found.peak_heap_bytes = found.rss_peak_bytes = None
        found.target_rss_peak_bytes, found.target_rss_growth_per_request_bytes = 40 << 20, 8.0
        found.sent_per_s, found.latency_corrected_p99_ns = rate * 0.99, latency
        points.append(SweepPoint(users=0, users_held=0, frames=2000, rate=rate, config=CONFIG,
                                 figures=found))  # fmt: skip
    sweep = SweepResult(created_at="", backend="unix:/tmp/r.sock", axis="rate", config=CONFIG,
                        points=points)  # fmt: skip
    sweep.knees = knees_of(sweep)
    return sweep


def test_a_rate_sweep_reads_its_target_figures_and_slopes_per_message_a_second() -> None:
    sweep = rate_sweep()
    rss, latency = sweep.knees

    assert (rss.metric, rss.verdict) == ("target_rss_peak_bytes", "linear throughout")
    assert (latency.verdict, latency.knee_at) == ("knee", 4000)
    assert knee_sentence(sweep, latency) == (
        "p99 from intended send bends at 4,000 msg/s: 0 ns per msg/s before, 1.0 µs after"
    )
    assert points_table(sweep).rows[3] == (
        "8,000", "7,920.0", "1,000", "0", "40.0 MiB", "8 B", "6.0 ms", "250.0 µs",
    )  # fmt: skip
    assert [bar.knee for bar in bars(sweep, "latency_corrected_p99_ns")] == [
        False, False, True, False, False,
    ]  # fmt: skip
