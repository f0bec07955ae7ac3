"""The library API: what the CLI, the pytest plugin and the benchmarks call.

    import treasure
    run = treasure.replay("recordings/smoke.trec", "pyyaml-stream", limit=500)
    both = treasure.compare("recordings/smoke.trec", ["pyyaml-dom", "pyyaml-stream"])

Keyword options are ReplayConfig's fields (its defaults and checks hold: a bad value
raises ConfigError); `output` saves the result there, its artefacts beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from treasure.passes.launch import PassProgress
from treasure.results import CompareResult, ReplayConfig, RunResult, save
from treasure.runner.compare import DEFAULT_BASELINE, run_compare
from treasure.runner.replay import artefacts_beside, run_replay

DEFAULT_BACKEND = "pyyaml-dom"


def _config(
    recording: str | Path | None, backend: str, config: ReplayConfig | None, options: Any
) -> ReplayConfig:
    if config is not None:
        if recording is not None or options:
            raise TypeError("give either a config or a recording with options, not both")
        return config
    if recording is None:
        raise TypeError("a recording is needed")
    return ReplayConfig(backend=backend, recording=str(recording), **options)


def replay(
    recording: str | Path | None = None,
    backend: str = DEFAULT_BACKEND,
    *,
    config: ReplayConfig | None = None,
    output: str | Path | None = None,
    progress: PassProgress | None = None,
    **options: Any,
) -> RunResult:
    """One backend over a recording, every pass the options ask for."""
    run_config = _config(recording, backend, config, options)
    out = Path(output) if output is not None else None
    if run_config.shards:  # N shards on a Dask cluster, merged
        from treasure.cluster import run_sharded

        result = run_sharded(run_config, artefacts_beside(run_config, out), progress)
    else:
        result = run_replay(
            run_config, artefact_dir=artefacts_beside(run_config, out), progress=progress
        )
    if out is not None:
        save(result, out)
    return result


def compare(
    recording: str | Path | None = None,
    backends: list[str] | None = None,
    *,
    baseline: str = DEFAULT_BASELINE,
    config: ReplayConfig | None = None,
    output: str | Path | None = None,
    progress: PassProgress | None = None,
    on_backend: Callable[[str], None] | None = None,
    **options: Any,
) -> CompareResult:
    """Several backends (default: every available one) over one recording, side by side.
    With `output`, the file holds every finished backend as soon as it is done."""
    template = _config(recording, "", config, options)
    out = Path(output) if output is not None else None
    result = run_compare(
        template,
        backends,
        baseline=baseline,
        artefact_dir=artefacts_beside(template, out),
        progress=progress,
        on_backend=on_backend,
        on_result=(lambda partial: save(partial, out)) if out is not None else None,
    )
    if out is not None:  # the copies saved along the way are marked partial; this one is whole
        save(result, out)
    return result


__all__ = ["CompareResult", "ReplayConfig", "RunResult", "compare", "replay"]
