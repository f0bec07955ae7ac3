"""Compare: the same recording through several backends, each pass in its own process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec

from treasure.errors import BackendError, TargetError
from treasure.parsers import available_names, resolve
from treasure.passes.launch import PassProgress
from treasure.passes.timing import now_iso
from treasure.results import CompareResult, RecordingInfo, ReplayConfig
from treasure.runner.replay import check_inputs, run_replay

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
    on_result: Callable[[CompareResult], None] | None = None,
) -> CompareResult:
    """Each backend in turn; `on_result` sees the comparison so far after every backend, so
    a caller can keep it on disk and an interrupted comparison loses nothing finished."""
    names = choose_backends(backends)
    if baseline not in names:
        baseline = names[0]
    result = CompareResult(
        created_at=now_iso(),
        recording=RecordingInfo(path=template.recording, frames=0, payload_bytes=0, users=0),
        baseline=baseline,
        runs=[],
    )
    for name in names:
        config = msgspec.structs.replace(template, backend=name)
        if on_backend is not None:
            on_backend(name)
        if config.keep == "document":
            factory = resolve(name).factory
            if factory is not None and not callable(getattr(factory, "load", None)):
                result.failed[name] = "cannot return whole documents (--keep document)"
                continue
        check_inputs(config)
        try:
            run = run_replay(
                config,
                heap=heap,
                heap_messages=heap_messages,
                cpu=cpu,
                artefact_dir=(artefact_dir / name) if artefact_dir else None,
                progress=progress,
            )
        except TargetError as exc:  # one backend dying does not lose the others' figures
            result.failed[name] = str(exc)
        else:
            result.runs.append(run)
            result.recording = result.runs[0].recording
        if on_result is not None:
            on_result(result)
    return result
