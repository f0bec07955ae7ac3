"""Compare: the same recording through several backends, each pass in its own process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from treasure.engine import now_iso
from treasure.errors import BackendError, TargetError
from treasure.parsers import available_names, resolve
from treasure.replay import PassProgress, check_inputs, run_replay
from treasure.results import CompareResult, RecordingInfo, ReplayConfig, RunResult

DEFAULT_BASELINE = "pyyaml-dom"


def choose_backends(requested: list[str] | None) -> list[str]:
    """The requested backends (each must resolve), or every available one."""
    if requested:
        for name in requested:
            resolve(name)
        return requested
    names = available_names()
    if not names:
        raise BackendError("no parser backend is available: pip install pyyaml")
    return names


def run_compare(
    template: ReplayConfig,
    backends: list[str] | None = None,
    *,
    baseline: str = DEFAULT_BASELINE,
    heap: bool = True,
    heap_messages: int = 2000,
    cpu: bool = False,
    artefact_dir: Path | None = None,
    progress: PassProgress | None = None,
    on_backend: Callable[[str], None] | None = None,
) -> CompareResult:
    names = choose_backends(backends)
    if baseline not in names:
        baseline = names[0]
    runs: list[RunResult] = []
    failed: dict[str, str] = {}
    for name in names:
        config = msgspec.structs.replace(template, backend=name)
        if on_backend is not None:
            on_backend(name)
        if config.keep == "document":
            factory = resolve(name).factory
            if factory is not None and not callable(getattr(factory, "load", None)):
                failed[name] = "cannot return whole documents (--keep document)"
                continue
        check_inputs(config)
        try:
            runs.append(
                run_replay(
                    config,
                    heap=heap,
                    heap_messages=heap_messages,
                    cpu=cpu,
                    artefact_dir=(artefact_dir / name) if artefact_dir else None,
                    progress=progress,
                )
            )
        except TargetError as exc:  # one backend dying does not lose the others' figures
            failed[name] = str(exc)
    recording = (
        runs[0].recording
        if runs
        else RecordingInfo(path=template.recording, frames=0, payload_bytes=0, users=0)
    )
    return CompareResult(
        created_at=now_iso(), recording=recording, baseline=baseline, runs=runs, failed=failed
    )
