"""Replay one backend over a recording: each pass in its own fresh subprocess, merged
into one RunResult. Passes: timing (always), heap (memray), CPU (py-spy), as the
ReplayConfig asks."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import msgspec

from treasure.errors import BackendError, TreasureError
from treasure.parsers import ENTRY_POINT_GROUP, resolve
from treasure.passes.cpu import run_cpu_pass
from treasure.passes.launch import PassProgress, run_worker
from treasure.recordings import count_frames, open_recording
from treasure.results import HeapSummary, ReplayConfig, RunResult
from treasure.shards import parse_start_at

ARTEFACTS_SUFFIX = ".artefacts"
UNSAVED_ROOT = Path("runs")
OWN_PACKAGE = "treasure."  # built-in backends: treasure's own code, loaded here


def check_recording(recording: str, warmup: int = 0) -> None:
    """Fail fast, in this process, on a recording a user got wrong, or one the warm-up
    would swallow whole: a run that measures nothing is an error, never `messages 0`."""
    path = Path(recording)
    if not path.exists():
        raise TreasureError(f"recording not found: {path}")
    with open_recording(path):
        pass  # reading the header proves it is a recording of a version we read
    frames = count_frames(path)
    if frames == 0:
        raise TreasureError(f"{path}: the recording holds no readable message to measure")
    if frames <= warmup:
        raise TreasureError(
            f"{path}: the {warmup}-message warm-up would take all {frames} messages and "
            f"leave none to measure: pass --warmup {frames // 10} (or a longer recording)"
        )


def check_backend(spec: str) -> None:
    """Refuse a backend name nobody registered, without importing a plugin's code here:
    one that hangs or crashes at import must fail its own pass, not this process."""
    if ":" in spec:
        module = spec.partition(":")[0]
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError) as exc:
            raise BackendError(f"cannot load backend {spec!r}: {exc}") from exc
        if found is None:
            raise BackendError(f"cannot load backend {spec!r}: no module named {module!r}")
        return
    registered = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
    if registered and not registered[0].module.startswith(OWN_PACKAGE):
        return  # a plugin: its worker loads it
    resolve(spec)  # built in (safe to load here), unknown or not installed: say which


def check_inputs(config: ReplayConfig) -> None:
    if not config.target:  # a live target's backend is whatever it runs
        check_backend(config.backend)
    check_recording(config.recording, config.warmup)


def artefacts_beside(config: ReplayConfig, output: Path | None) -> Path:
    """Where a result's captures and profiles go: the configured folder, else beside the
    result (`runs/demo.json` -> `runs/demo.artefacts/`), else a fresh folder under runs/:
    never one another result already points at."""
    if config.artefacts:
        return Path(config.artefacts)
    if output is not None:
        return output.with_name(output.stem + ARTEFACTS_SUFFIX)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for attempt in range(1000):
        candidate = UNSAVED_ROOT / f"unsaved-{stamp}-{attempt}{ARTEFACTS_SUFFIX}"
        if not candidate.exists():
            return candidate
    raise TreasureError(f"no free artefacts folder under {UNSAVED_ROOT}: use --artefacts")


def run_replay(
    config: ReplayConfig,
    *,
    artefact_dir: Path | None = None,
    progress: PassProgress | None = None,
    checked: bool = False,
    start_at_ns: int | None = None,
) -> RunResult:
    """Every pass `config` asks for, merged; `checked` when the caller checked the inputs;
    `start_at_ns` a shard's start shared with the others (epoch ns)."""
    if not checked:
        check_inputs(config)
    artefacts = artefact_dir or artefacts_beside(config, None)
    if start_at_ns is None and config.start_at:
        start_at_ns = parse_start_at(config.start_at)
    if config.served:
        from treasure.runner.target import run_served

        return run_served(config, artefacts, start_at_ns)
    with tempfile.TemporaryDirectory(prefix="treasure-") as scratch:
        config_path = Path(scratch) / "config.json"
        config_path.write_bytes(msgspec.json.encode(config))
        started = time.perf_counter()
        shared_start = ["--start-at-ns", str(start_at_ns)] if start_at_ns is not None else []
        timing = run_worker("timing", config_path, config, progress, *shared_start)
        timing_seconds = time.perf_counter() - started
        result = msgspec.json.decode(timing.figures, type=RunResult)
        result.config = config
        if result.messages == 0:
            why = result.stopped_early or "every message was skipped"
            raise TreasureError(f"{config.backend}: no message was measured ({why})")
        if config.heap:
            heap = run_worker(
                "heap", config_path, config, progress, "--artefact-dir", str(artefacts)
            )
            result.heap = msgspec.json.decode(heap.figures, type=HeapSummary)
            result.artefacts.update(result.heap.artefacts)
        if config.cpu:
            result.cpu = run_cpu_pass(config, config_path, artefacts, timing_seconds, progress)
            result.artefacts.update(result.cpu.artefacts)
    return result
