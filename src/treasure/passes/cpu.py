"""The CPU pass: the timing worker run again as a child of `py-spy record`, never the
timing pass itself, so the profiler's cost never reaches a latency figure. What the samples
mean, and which of them are the backend's, is `treasure.probes.cpu`'s business.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import msgspec

from treasure.passes.launch import PassProgress, run_pass_process, worker_command
from treasure.probes.cpu import (
    analyse,
    explain_failure,
    find_py_spy,
    labelled_stacks,
    machine_ptrace_refusal,
    native_supported,
    not_attached_reason,
    read_speedscope,
    share_interval,
)
from treasure.report.flamegraph import write_flamegraph
from treasure.results import CpuSummary, ReplayConfig, RunResult

# -- the pass ---------------------------------------------------------------------------


def py_spy_command(
    py_spy: Path, profile: Path, rate_hz: int, native: bool, target: list[str]
) -> list[str]:
    command = [str(py_spy), "record", "--format", "speedscope", "-o", str(profile)]
    command += ["--rate", str(rate_hz), *(["--native"] if native else []), "--", *target]
    return command


def clock_share(replay: RunResult) -> float | None:
    """What the samples' share should be: the profiled run's time inside backend calls
    (its own clock reads around each call) over its loop's duration."""
    latency = replay.latency.uncorrected if replay.latency else None
    if latency is None or not replay.duration_ns:
        return None
    return min(1.0, latency.mean * latency.count / replay.duration_ns)


def _sample_errors(py_spy_stdout: str) -> int:
    found = re.search(r"Errors: (\d+)", py_spy_stdout)
    return int(found.group(1)) if found else 0


def run_cpu_pass(
    config: ReplayConfig,
    config_path: Path,
    artefact_dir: Path,
    timing_seconds: float,
    progress: PassProgress | None = None,
    *,
    native: bool | None = None,
) -> CpuSummary:
    """Replay once more under py-spy; write the profile and flamegraph into artefact_dir.
    The backend is imported by the worker alone, which also says where its code lives."""
    rate_hz = config.cpu_rate_hz
    native = native_supported() if native is None else native
    skipped = CpuSummary(profiled=False, rate_hz=rate_hz, timing_pass_seconds=timing_seconds)
    py_spy = find_py_spy()
    if py_spy is None:
        skipped.reason = "py-spy not found next to this Python or on PATH: pip install py-spy"
        return skipped
    refusal = machine_ptrace_refusal()
    if refusal:
        skipped.reason = not_attached_reason(refusal)
        return skipped
    artefact_dir.mkdir(parents=True, exist_ok=True)
    profile_path = artefact_dir / f"{_slug(config.backend)}-cpu.speedscope.json"
    svg_path = profile_path.with_name(f"{_slug(config.backend)}-cpu-flamegraph.svg")
    started = time.perf_counter()
    done = run_pass_process(
        lambda fds: py_spy_command(
            py_spy,
            profile_path,
            rate_hz,
            native,
            worker_command("timing", config_path, "--backend-roots", *fds),
        ),
        "cpu",
        progress,
        timeout_s=config.pass_timeout_s,
        start_timeout_s=config.start_timeout_s,
        stdout_to_log=True,  # py-spy's summary (its sample errors) is on its stdout
    )
    skipped.pass_seconds = time.perf_counter() - started
    if done.code != 0 or not profile_path.exists():
        skipped.reason = (
            explain_failure(done.stderr_tail)
            if not done.timed_out
            else (f"py-spy killed after {done.timed_out}; CPU pass skipped")
        )
        return skipped
    if done.finished is None:
        skipped.reason = f"the replay failed under py-spy: {done.explain()}"
        return skipped
    replay = msgspec.json.decode(done.finished.figures, type=RunResult)
    roots = tuple(done.finished.backend_roots)
    profile = read_speedscope(profile_path)
    figures = analyse(profile, roots)
    title = f"{config.backend}: CPU samples at {rate_hz} Hz"
    write_flamegraph(labelled_stacks(profile, roots), svg_path, title=title)
    share = figures.backend_samples / figures.loop_samples if figures.loop_samples else 0.0
    return CpuSummary(
        profiled=True,
        share_interval=share_interval(figures.backend_samples, figures.loop_samples),
        clock_share=clock_share(replay),
        samples=figures.samples,
        backend_share=share,
        rate_hz=rate_hz,
        pass_seconds=skipped.pass_seconds,
        timing_pass_seconds=timing_seconds,
        artefacts={"cpu_speedscope": str(profile_path), "cpu_flamegraph": str(svg_path)},
        native=native,
        loop_samples=figures.loop_samples,
        backend_samples=figures.backend_samples,
        sample_errors=_sample_errors(done.stderr_tail),
        loop_ns=replay.duration_ns,
        hot_functions=figures.hot_functions,
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "backend"
