"""The library API: what the CLI, the pytest plugin and the benchmarks call.

    import treasure
    run = treasure.replay("recordings/smoke.trec", "pyyaml-stream", limit=500)
    both = treasure.compare("recordings/smoke.trec", ["pyyaml-dom", "pyyaml-stream"])
    leak = treasure.soak("recordings/smoke.trec", "pyyaml-dom", messages=20_000)
    knees = treasure.sweep("recordings/smoke.trec", "pyyaml-dom", users=[5, 10, 15, 20])

Keyword options are ReplayConfig's fields (its defaults and checks hold: a bad value
raises ConfigError); `output` saves the result there, its artefacts beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from treasure.errors import ConfigError
from treasure.growth.soak import DEFAULT_RESOLUTION_BYTES, DEFAULT_WARMUP, SoakConfig
from treasure.growth.sweep import SweepPoint, SweepResult
from treasure.growth.sweep import save as save_sweep
from treasure.passes.launch import PassProgress
from treasure.quantities import Unit, parse_quantity
from treasure.results import CompareResult, ReplayConfig, RunResult, save
from treasure.runner.compare import DEFAULT_BASELINE, run_compare
from treasure.runner.replay import artefacts_beside, run_replay
from treasure.runner.soak import run_soak
from treasure.runner.sweep import (
    DEFAULT_SWEEP_HEAP_MESSAGES,
    PointDone,
    PointStarted,
    run_sweep,
)

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


def soak(
    recording: str | Path | None = None,
    backend: str = DEFAULT_BACKEND,
    *,
    messages: int | None = None,
    duration_s: float | None = None,
    warmup: str | int = DEFAULT_WARMUP,
    until_rss: int | str | None = None,
    resolution_bytes: float = DEFAULT_RESOLUTION_BYTES,
    sample_every: int | None = None,
    seed: int = 0,
    config: ReplayConfig | None = None,
    output: str | Path | None = None,
    progress: PassProgress | None = None,
    **options: Any,
) -> RunResult:
    """One backend (or a live target: `target=`, `transport=`) soaked for `messages` or
    `duration_s`; `result.soak` holds the samples, the growth per message with its interval
    and the verdict. `warmup` (N messages or "N%") is left out of the fit; `until_rss`
    (bytes, or "2GiB") stops the run once the measured process's RSS passes it, the result
    kept with verdict "stopped". The other keyword options are ReplayConfig's."""
    if config is None:
        limit = _bytes_option(until_rss, "until")
        plan = SoakConfig(
            messages=messages, duration_s=duration_s, warmup=str(warmup), until_rss_bytes=limit,
            resolution_bytes=resolution_bytes, sample_every=sample_every, seed=seed,
        )  # fmt: skip
        config = _config(recording, backend, None, {"warmup": 0, **options, "soak": plan})
    else:
        given = (messages, duration_s, until_rss, sample_every, recording)
        changed = (warmup, resolution_bytes, seed) != (DEFAULT_WARMUP, DEFAULT_RESOLUTION_BYTES, 0)
        if options or changed or any(value is not None for value in given):
            raise TypeError("give either a config or a recording with options, not both")
    out = Path(output) if output is not None else None
    return run_soak(config, output=out, progress=progress)


def _bytes_option(value: int | str | None, field: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(parse_quantity(value, Unit.BYTES))
    except ValueError as exc:
        raise ConfigError(field, f"{value!r}: {exc}") from None


def sweep(
    recording: str | Path | None = None,
    backend: str = DEFAULT_BACKEND,
    *,
    users: Sequence[int] = (),
    rates: Sequence[int] = (),
    config: ReplayConfig | None = None,
    output: str | Path | None = None,
    progress: PassProgress | None = None,
    on_point: PointStarted | None = None,
    on_result: PointDone | None = None,
    **options: Any,
) -> SweepResult:
    """One run per user count (in process, with the heap pass) or per rate (against a live
    target: `target=` or `transport=`), then each figure's knee. With `output`, the file
    holds every finished point as soon as it is done (`complete` is False until the last);
    `on_result` gets the sweep so far after each point. The other keyword options are
    ReplayConfig's; `heap_messages` defaults to what the sweep needs (200)."""
    if config is None:
        options = {"heap_messages": DEFAULT_SWEEP_HEAP_MESSAGES, **options}
    template = _config(recording, backend, config, options)
    out = Path(output) if output is not None else None

    def done(partial: SweepResult, point: SweepPoint) -> None:
        if out is not None:
            save_sweep(partial, out)
        if on_result is not None:
            on_result(partial, point)

    result = run_sweep(
        template, users, rates=rates, progress=progress, on_point=on_point, on_result=done
    )
    if out is not None:
        save_sweep(result, out)
    return result


__all__ = [
    "CompareResult",
    "ReplayConfig",
    "RunResult",
    "SoakConfig",
    "SweepResult",
    "compare",
    "replay",
    "soak",
    "sweep",
]
