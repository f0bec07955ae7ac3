"""The HTML report: self-contained, every figure it has data for, every string escaped."""

from __future__ import annotations

import random
import re
from array import array
from pathlib import Path

import pytest
from tests import builders

from treasure.probes.latency import exact_distribution, summarize
from treasure.report._plots import wilson
from treasure.report.html import artefact_href, render_html
from treasure.results import (
    CompareResult,
    CpuSummary,
    ErrorSample,
    GcSummary,
    HeapSummary,
    ReplayConfig,
    RssSummary,
    RunResult,
)

RECORDING = builders.recording_of(
    3000, path="runs/blowup.trec", users=12, scenario="", read_to_end=False
)
HOSTILE = "<img src=x onerror=alert(1)>"


def latencies(seed: int, median_ns: int, count: int = 3000) -> array[int]:
    rng = random.Random(seed)
    return array("q", (int(rng.lognormvariate(0, 0.4) * median_ns) for _ in range(count)))


def heap_summary(seed: int, peak: int) -> HeapSummary:
    rng = random.Random(seed)
    peaks = [rng.gauss(peak, peak / 10) for _ in range(500)]
    return HeapSummary(
        measurable=True,
        traced_messages=500,
        traced_selection="every 6th of 3000",
        peak_bytes=exact_distribution(peaks),
        allocated_bytes=exact_distribution([p * 3 for p in peaks]),
        retained_bytes=exact_distribution([rng.randrange(0, 4096) for _ in peaks]),
        amplification=exact_distribution([p / 512 for p in peaks]),
        timeline=[(i * 100, int(peak + rng.randrange(0, peak))) for i in range(30)],
        artefacts={"memray_flamegraph": "runs/artefacts/heap-flamegraph.html"},
    )


def run_result(backend: str, *, seed: int, median_ns: int, paced: bool = False) -> RunResult:
    uncorrected = latencies(seed, median_ns)
    corrected = array("q", (value + 2 * median_ns for value in uncorrected)) if paced else None
    rng = random.Random(seed)
    duration_ns = sum(uncorrected)
    pauses = [rng.randrange(10_000, 900_000) for _ in range(4)]
    return builders.run(
        backend,
        recording=RECORDING,
        duration_ns=duration_ns,
        throughput_per_s=len(uncorrected) / (duration_ns / 1e9),
        latency=summarize(uncorrected, corrected),
        gc=GcSummary(
            collections=4,
            by_generation=[3, 1, 0],
            collections_per_1k=4 / 3,
            pause_total_ns=sum(pauses),
            pause_p99_ns=max(pauses),
            pause_max_ns=max(pauses),
            pauses_ns=pauses,
        ),
        rss=RssSummary(
            start_bytes=30 << 20,
            end_bytes=31 << 20,
            peak_bytes=32 << 20,
            growth_per_message_bytes=rng.random() * 100,
            samples=[(i * 100, (30 << 20) + i * rng.randrange(1, 4096)) for i in range(30)],
        ),
        heap=heap_summary(seed, 100_000),
        cpu=CpuSummary(
            profiled=True,
            samples=1200,
            loop_samples=1000,
            backend_samples=900 - seed,
            backend_share=(900 - seed) / 1000,
            rate_hz=100,
            native=True,
            loop_ns=duration_ns + duration_ns // 5,
            timing_pass_seconds=duration_ns / 1e9 + 0.5,
            pass_seconds=duration_ns * 1.2 / 1e9 + 0.5,
            hot_functions=[("construct_object (yaml/constructor.py)", 200, True)],
            artefacts={"cpu_speedscope": f"runs/artefacts/{backend}-cpu.speedscope.json"},
        ),
    )


def comparison() -> CompareResult:
    return builders.comparison(
        run_result("pyyaml-dom", seed=1, median_ns=170_000),
        run_result("pyyaml-stream", seed=2, median_ns=18_000, paced=True),
        failed={"rust-serde": "not installed"},
        complete=False,
    )


@pytest.fixture(scope="module")
def comparison_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The comparison rendered once: a render costs about a second of plotly validation."""
    output = tmp_path_factory.mktemp("report") / "report.html"
    render_html([comparison()], output)
    return output.read_text()


def plot_ids(html: str) -> set[str]:
    return set(re.findall(r'id="(plot-[a-z-]+)"', html))


def test_report_is_one_file_with_plotly_inlined(comparison_html: str) -> None:
    # given a comparison of two backends, rendered
    html = comparison_html
    # then plotly.js is inside the file and nothing is fetched from elsewhere
    assert "Plotly" in html
    assert "<script src" not in html
    assert "<link" not in html
    # and every figure the results hold data for is drawn
    assert plot_ids(html) == {
        "plot-latency-percentiles",
        "plot-latency-histogram",
        "plot-heap-per-message",
        "plot-heap-over-time",
        "plot-rss-over-time",
        "plot-gc-pauses",
        "plot-cpu-share",
    }


def test_summary_tables_have_one_row_per_run_and_list_failures(comparison_html: str) -> None:
    # given a comparison with one failed backend, rendered
    html = comparison_html
    # then each summary table has a row per run and the failure is shown with its reason
    for key in ("speed", "latency", "heap", "memory", "cpu"):
        summary = html.partition(f"<table class='{key}'>")[2].partition("</table>")[0]
        assert summary.count("<tr>") == 3, key  # header and two runs
        assert "pyyaml-stream" in summary
    assert "rust-serde</b>: not installed" in html


def test_the_headline_comes_first_with_the_baseline_ratios(comparison_html: str) -> None:
    # given pyyaml-stream at 18 µs against pyyaml-dom at 170 µs, both with heap passes
    html = comparison_html
    # then one sentence at the top says how much faster, against what, on which recording
    headline = html.partition("<p class='headline'>")[2].partition("</p>")[0]
    assert html.index("<p class='headline'>") < html.index("<table")
    assert headline.startswith("pyyaml-stream: ")
    assert "× faster, about the same heap per message" in headline
    assert headline.endswith("than pyyaml-dom on blowup, 12 users")
    # and the speed table has the speed-up and its interval, the heap table the heap ratio
    speed = html.partition("<table class='speed'>")[2].partition("</table>")[0]
    assert "<th class=''>speed-up</th>" in speed
    assert speed.count("<th class=''>95 % CI</th>") == 2
    assert "less heap" in html.partition("<table class='heap'>")[2].partition("</table>")[0]


def test_columns_of_dashes_are_dropped(comparison_html: str) -> None:
    # given no run with corrected latency except the paced one, and every run with figures
    latency = comparison_html.partition("<table class='latency'>")[2].partition("</table>")[0]
    # then a column is kept only when some run has a figure in it
    assert "p99 corrected" in latency  # pyyaml-stream was paced
    for row in re.findall(r"<tr>(.*?)</tr>", latency)[1:]:
        assert row.count("<td ") == latency.count("<th ")


def test_the_heap_chart_reads_on_a_log_scale(comparison_html: str) -> None:
    # given backends whose heap per message differs by orders of magnitude
    heap_plot = comparison_html.partition('id="plot-heap-per-message"')[2].partition("</script>")[0]
    # then its axis is logarithmic, so the small ones are not flat against zero
    assert '"type":"log"' in heap_plot


def test_no_run_peak_means_no_run_peak_column_or_note(comparison_html: str) -> None:
    # given heap passes that kept no session state (no run peak in the results)
    memory = comparison_html.partition("<table class='memory'>")[2].partition("</div>")[0]
    # then neither the column nor the note of its session settings is shown
    assert "run peak" not in memory


def test_the_run_peak_names_its_session_settings(tmp_path: Path) -> None:
    # given a run whose heap pass held 12 users' trees
    run = run_result("pyyaml-dom", seed=1, median_ns=170_000)
    assert run.heap is not None
    run.heap.peak_heap_at_users_bytes = 3 << 20
    run.config = ReplayConfig(
        backend="pyyaml-dom", recording=RECORDING.path, users=12, keep="document"
    )
    output = tmp_path / "run.html"
    # when it is rendered
    render_html([run], output)
    # then the run peak stands with the options that produced it
    assert "run peak (--users 12 --keep document --in-flight 1)</td><td class='name'>3.0 MiB" in (
        output.read_text()
    )


def test_corrected_latency_is_plotted_beside_uncorrected_when_paced(comparison_html: str) -> None:
    # given a comparison whose pyyaml-stream run was paced, rendered
    html = comparison_html
    # then its percentile plot holds both curves, and the unpaced run only one
    assert '"name":"pyyaml-stream (corrected)"' in html
    assert '"name":"pyyaml-stream"' in html
    assert '"name":"pyyaml-dom (corrected)"' not in html


def test_figures_without_data_are_left_out(tmp_path: Path) -> None:
    # given a run with no heap pass, no CPU pass and no GC pauses
    run = run_result("pyyaml-dom", seed=3, median_ns=170_000)
    run.heap = None
    run.cpu = None
    assert run.gc is not None
    run.gc.pauses_ns = []
    output = tmp_path / "run.html"
    # when it is rendered
    render_html([run], output)
    # then only latency and RSS are plotted
    assert plot_ids(output.read_text()) == {
        "plot-latency-percentiles",
        "plot-latency-histogram",
        "plot-rss-over-time",
    }


def test_every_string_from_a_result_is_escaped(tmp_path: Path) -> None:
    # given a result whose strings carry markup and a script URL
    run = run_result(HOSTILE, seed=5, median_ns=20_000)
    run.library = "</table><script>alert(2)</script>"
    run.error_samples = [ErrorSample(frame_index=7, category="syntax", message=HOSTILE)]
    run.stopped_early = HOSTILE
    run.artefacts = {HOSTILE: "javascript:alert(3)"}
    assert run.heap is not None
    run.heap.traced_selection = HOSTILE
    output = tmp_path / "hostile.html"
    # when it is rendered
    render_html([run], output)
    html = output.read_text()
    # then no string from the result reaches the page as markup
    assert HOSTILE not in html
    assert "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # and the artefact link is a relative path, not a script URL
    assert "href='javascript:" not in html
    assert re.search(r"href='[./]*[^':]*javascript%3Aalert%283%29'", html)


def test_artefact_links_are_relative_to_the_report(tmp_path: Path) -> None:
    # given an artefact beside a report in another folder
    artefact = tmp_path / "runs" / "pyyaml-dom-artefacts" / "cpu flame.svg"
    # when its link is made for a report in tmp_path/reports
    href = artefact_href(str(artefact), tmp_path / "reports")
    # then it climbs out of the report's folder, percent-encoded
    assert href == "../runs/pyyaml-dom-artefacts/cpu%20flame.svg"


def test_wilson_interval_holds_the_share_and_narrows_with_samples() -> None:
    # given the same share from few and from many samples
    few = wilson(70, 100)
    many = wilson(7000, 10000)
    # then both intervals hold it and the larger sample's is narrower
    assert few[0] < 0.7 < few[1]
    assert many[0] < 0.7 < many[1]
    assert many[1] - many[0] < few[1] - few[0]
