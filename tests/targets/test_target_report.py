"""The HTML report's target figures, from real runs against live targets: the plotted
values are the result's own (read back from the page's plot data), and they show what the
ground-truth backends do (64 KiB kept per request; the hostile recording's errors)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import EVENT_MESSAGE
from tests.targets.conftest import serve_command
from tests.targets.leaky_backend import LEAK_BYTES
from tests.targets.test_target_live import hostile_payloads, in_process_outcomes

from treasure.recordings import RecordingWriter
from treasure.report.html import render_html
from treasure.results import ReplayConfig, RunResult, TargetFigures
from treasure.results.timeline import TIMELINE_COLUMNS
from treasure.runner.replay import run_replay

pytestmark = pytest.mark.integration
MIB = 2**20


def plot_data(html: str, plot_id: str) -> list[dict[str, Any]]:
    """The traces plotly is given for one figure, as JSON (the values, not their rendering)."""
    match = re.search(rf'Plotly\.newPlot\(\s*"{plot_id}",\s*', html)
    assert match is not None, f"no {plot_id} in the report"
    traces, _ = json.JSONDecoder().raw_decode(html, match.end())
    assert isinstance(traces, list)
    return traces


def replay(tmp_path: Path, recording: Path, name: str, spawn: str, pace: str) -> RunResult:
    sock = tmp_path / f"{name}.sock"
    config = ReplayConfig(
        backend=name,
        recording=str(recording),
        target=f"unix:{sock}",
        spawn=spawn.format(sock=sock),
        pace=pace,
        connections=2,
        warmup=0,  # every message measured: the counts are the recording's
    )
    return run_replay(config, artefact_dir=tmp_path / name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult, str]:
    """A leaking router and pyyaml-dom on the hostile recording, rendered in one report."""
    tmp_path = tmp_path_factory.mktemp("target-report")
    leaky_recording = write_recording(tmp_path / "leaky.trec", [EVENT_MESSAGE] * 1500)
    mixed_recording = write_recording(tmp_path / "mixed.trec", mixed_payloads())
    leaky_spawn = serve_command("tests.targets.leaky_backend:LeakyBackend", "--unix", "{sock}")
    leaky = replay(tmp_path, leaky_recording, "leaky", leaky_spawn, "rate:1000/s")
    dom = replay(
        tmp_path, mixed_recording, "pyyaml-dom", serve_command("pyyaml-dom", "--unix", "{sock}"),
        "rate:400/s",
    )  # fmt: skip
    output = tmp_path / "report.html"
    render_html([leaky, dom], output)
    return leaky, dom, output.read_text()


def write_recording(path: Path, payloads: list[bytes]) -> Path:
    with RecordingWriter(path, metadata={"scenario": "test", "users": 10}) as writer:
        for index, payload in enumerate(payloads):
            writer.write(index * 1_000_000, f"u-{index % 10}", payload)
    return path


def mixed_payloads() -> list[bytes]:
    return [EVENT_MESSAGE, *hostile_payloads()] * 12


def target_of(run: RunResult) -> TargetFigures:
    assert run.target is not None
    return run.target


def test_rss_over_the_run_is_the_sampled_rss(runs: tuple[RunResult, RunResult, str]) -> None:
    leaky, dom, html = runs
    traces = plot_data(html, "plot-target-rss-over-time")
    for trace, run in zip(traces, (leaky, dom), strict=True):
        process = target_of(run).process
        assert process is not None
        assert trace["x"] == pytest.approx([ms / 1000 for ms, _, _ in process.samples])
        assert trace["y"] == pytest.approx([rss / MIB for _, _, rss in process.samples])
    # 1,500 requests keeping 64 KiB each: ~94 MiB more at the end than at the start
    leaked_mib = traces[0]["y"][-1] - traces[0]["y"][0]
    assert leaked_mib == pytest.approx(1500 * LEAK_BYTES / MIB, rel=0.1)


def test_the_growth_line_has_the_growth_per_request(
    runs: tuple[RunResult, RunResult, str],
) -> None:
    leaky, _, html = runs
    points, line = plot_data(html, "plot-target-rss-growth")[:2]
    process = target_of(leaky).process
    assert process is not None
    assert points["x"] == [answered for _, answered, _ in process.samples]
    (x0, x1), (y0, y1) = line["x"], line["y"]
    slope = (y1 - y0) * MIB / (x1 - x0)
    assert slope == pytest.approx(process.rss_growth_per_request_bytes, rel=1e-6)
    assert slope == pytest.approx(LEAK_BYTES, rel=0.05)


def test_target_cpu_is_cpu_seconds_per_second(runs: tuple[RunResult, RunResult, str]) -> None:
    leaky, dom, html = runs
    traces = plot_data(html, "plot-target-cpu")
    for trace, run in zip(traces, (leaky, dom), strict=True):
        timeline = target_of(run).timeline
        assert timeline is not None
        samples = timeline.cpu_samples
        expected = [
            (c1 - c0) * 1000 / (m1 - m0)
            for (m0, c0), (m1, c1) in itertools.pairwise(samples)
            if m1 > m0
        ]
        assert trace["y"] == pytest.approx(expected)
        assert all(0 <= cores <= 2.5 for cores in trace["y"])  # two cores, tick rounding
        process = target_of(run).process
        assert process is not None
        assert 0 <= samples[0][1] <= samples[-1][1] <= process.cpu_seconds + 0.02


def test_latency_curves_from_intended_and_actual_send(
    runs: tuple[RunResult, RunResult, str],
) -> None:
    leaky, dom, html = runs
    traces = plot_data(html, "plot-target-latency")
    assert len(traces) == 4
    for pair, run in ((traces[:2], leaky), (traces[2:], dom)):
        target = target_of(run)
        intended, actual = pair
        assert intended["y"] == pytest.approx([v / 1000 for _, v in target.corrected_curve])
        assert actual["y"] == pytest.approx([v / 1000 for _, v in target.uncorrected_curve])
        assert intended["customdata"] == [p for p, _ in target.corrected_curve]
        # from the intended send is never shorter than from the actual one, at any percentile
        assert all(i >= a for i, a in zip(intended["y"], actual["y"], strict=True))


def test_per_second_counts_are_each_seconds_messages(
    runs: tuple[RunResult, RunResult, str],
) -> None:
    _, dom, html = runs
    traces = plot_data(html, "plot-target-per-second")
    target = target_of(dom)
    timeline = target.timeline
    assert timeline is not None
    dom_traces = {trace["name"].rpartition(": ")[2]: trace for trace in traces[4:]}
    assert set(dom_traces) == {"late", "errors", "timed out", "lost"}
    errors = dom_traces["errors"]["y"]
    assert errors == [row[TIMELINE_COLUMNS.index("errors")] for row in timeline.bins]
    expected = in_process_outcomes("pyyaml-dom", mixed_payloads())
    assert sum(errors) == sum(n for category, n in expected.items() if category)
    assert len(errors) == len(dom_traces["late"]["y"]) == 1 + (len(mixed_payloads()) - 1) // 400
    assert dom_traces["timed out"]["y"] == [0] * len(errors)
    assert Counter(target.errors) == Counter({k: v for k, v in expected.items() if k})


def test_the_heading_counts_what_was_sent(runs: tuple[RunResult, RunResult, str]) -> None:
    leaky, dom, html = runs
    assert (leaky.recording.messages_measured, leaky.recording.users) == (1500, 10)
    assert leaky.recording.payload_bytes_measured == 1500 * len(EVENT_MESSAGE)
    assert dom.recording.payload_bytes_measured == sum(map(len, mixed_payloads()))
    assert dom.recording.scenario == "test"
    assert f"{dom.recording.messages_measured:,} messages measured" in html
