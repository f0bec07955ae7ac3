"""Compare: the same recording through several backends, each pass in its own process."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import msgspec

from treasure.errors import BackendError, TargetError
from treasure.parsers import ENTRY_POINT_GROUP, resolve
from treasure.passes.launch import PassProgress
from treasure.passes.timing import now_iso
from treasure.results import CompareResult, RecordingInfo, ReplayConfig, RunResult
from treasure.runner.replay import (
    OWN_PACKAGE,
    artefacts_beside,
    check_backend,
    check_recording,
    run_replay,
)
from treasure.runner.rounds import run_rounds
from treasure.runner.target import run_label

DEFAULT_BASELINE = "pyyaml-dom"


def folder_name(backend: str) -> str:
    """A backend's artefacts folder: `tests.hostile:Exit3` -> `tests.hostile_Exit3`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", backend).strip("_") or "backend"


def choose_backends(requested: list[str] | None) -> list[str]:
    """The requested backends once each, in order (each must resolve), or every available one."""
    if requested:
        names = list(dict.fromkeys(requested))  # named twice in -b: run once
        for name in names:
            check_backend(name)
        return names
    names = default_backends()
    if not names:
        raise BackendError("no parser backend is available: pip install pyyaml")
    return names


def default_backends() -> list[str]:
    """Every built-in backend that loads, and every plugin registered (loaded only by its
    own worker: a broken one is that backend's failure, never the comparison's)."""
    names = set()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.module.startswith(OWN_PACKAGE):
            try:
                info = resolve(entry.name)
            except BackendError:
                continue  # not installed: `treasure backends` says how to install it
            if info.payload_format != "yaml":
                continue  # a JSON-only backend is compared when named (-b), on JSON
        names.add(entry.name)
    return sorted(names)


def choose_baseline(runs: list[RunResult], requested: str) -> tuple[str, str]:
    """The run the ratios are against, by the name its worker reported (a `module:Class`
    backend's runs carry its declared `name`), and a note when that is not what was asked
    for. Either name matches; a baseline not among the runs falls back to the first."""
    for run in runs:
        if requested in (run.backend, run.config.backend if run.config else ""):
            note = "" if run.backend == requested else f"{requested} runs as {run.backend}"
            return run.backend, note
    if not runs:
        return requested, ""
    return runs[0].backend, f"{requested} was not compared: ratios are against {runs[0].backend}"


def run_compare(
    template: ReplayConfig,
    backends: list[str] | None = None,
    *,
    baseline: str = DEFAULT_BASELINE,
    artefact_dir: Path | None = None,
    progress: PassProgress | None = None,
    on_backend: Callable[[str], None] | None = None,
    on_result: Callable[[CompareResult], None] | None = None,
) -> CompareResult:
    """Each backend in turn; `on_result` sees the comparison so far after every backend, so
    a caller can keep it on disk and an interrupted comparison loses nothing finished.
    Each backend's artefacts go to its own folder under `artefact_dir`."""
    names = choose_backends(backends)
    check_recording(template.recording, template.warmup)
    artefacts = artefact_dir or artefacts_beside(template, None)
    result = CompareResult(
        created_at=now_iso(),
        recording=RecordingInfo(
            path=template.recording, messages_measured=0, payload_bytes_measured=0, users=0
        ),
        baseline=baseline,
        baseline_requested=baseline,
        runs=[],
        backends=names,
        config=template,
    )
    # each backend in process and behind each --transport listed, side by side
    configs = [
        msgspec.structs.replace(template, backend=name, transport=transport)
        for name in names
        for transport in template.transport.split(",")
    ]
    for config in configs:
        label = run_label(config)
        if on_backend is not None:
            on_backend(label)
        try:
            run = run_replay(
                config, artefact_dir=artefacts / folder_name(label), progress=progress, checked=True
            )
        except TargetError as exc:  # one backend dying does not lose the others' figures
            result.failed[label] = str(exc)
        else:
            result.runs.append(run)
            result.recording = result.runs[0].recording
            result.baseline, result.baseline_note = choose_baseline(result.runs, baseline)
        if on_result is not None:
            on_result(result)
    interleaved = _in_process(result.runs) if template.rounds else []
    if interleaved:
        if on_backend is not None:
            on_backend("interleaved")
        result.rounds = run_rounds(interleaved, result.baseline, progress)
        if on_result is not None:
            on_result(result)
    result.complete = True
    return result


def _in_process(runs: list[RunResult]) -> list[tuple[str, ReplayConfig]]:
    """The runs to time again in interleaved rounds: those of backends in this process (a
    live target's time is the service's), once per backend name."""
    chosen: dict[str, ReplayConfig] = {}
    for run in runs:
        if run.config is not None and not run.config.served:
            chosen.setdefault(run.backend, run.config)
    return list(chosen.items())
