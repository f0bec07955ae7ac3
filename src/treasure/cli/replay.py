"""`treasure replay`: one recording through one backend, with true figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from treasure import api
from treasure.cli._options import existing_file, json_option, output_option
from treasure.cli._replay_options import (
    PassProgressBar,
    given_options,
    heap_option,
    load_for_rerun,
    make_config,
    replay_options,
    rerun_config,
    save_and_show,
    shard_options,
)
from treasure.cli._shard_view import render_shards
from treasure.cli._target_view import render_target
from treasure.errors import ExitCode, TargetError
from treasure.report.terminal import render_run
from treasure.results import CompareResult, ReplayConfig, RunResult

DEFAULT_BACKEND = "pyyaml-dom"


@click.command(name="replay")
@click.argument("recording", type=existing_file(), required=False)
@click.option("-b", "--backend", default=DEFAULT_BACKEND, show_default=True, help="Backend name.")
@replay_options
@shard_options
@heap_option(default=False)
@output_option()
@json_option
def command(
    recording: Path | None,
    rerun: Path | None,
    output: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Replay RECORDING through one parser backend: latency per message (HDR
    percentiles), throughput, GC collections and pauses, peak RSS, errors by category;
    with --heap, heap per message (native included); with --cpu, a py-spy profile.
    Each measurement runs in its own fresh subprocess.

    \b
    Examples:
      treasure replay recordings/smoke.trec
      treasure replay run.trec -b pyyaml-stream --limit 5000 --heap -o runs/stream.json
      treasure replay run.trec --pace rate:2000/s --users 12000 --keep document
      treasure replay --rerun runs/stream.json -o runs/stream-again.json
      treasure replay run.trec -b rust-serde --transport unix --pace rate:5000/s
      treasure replay run.trec --target unix:/tmp/r.sock --spawn "./router -unix /tmp/r.sock"
      treasure replay run.trec --shard 1/4 -o runs/shard-1.json
      treasure replay run.trec --shards 4 --cluster tcp://10.0.0.5:8786 -o runs/merged.json
    """
    config = _config(recording, rerun, options)
    with PassProgressBar(enabled=not as_json) as bar:
        result = api.replay(config=config, output=output, progress=bar.update)
    save_and_show(result, output, as_json, _render)
    if result.target is not None and result.target.failure:
        raise TargetError(f"the target failed: {result.stopped_early}")
    if result.stopped_early.startswith("--fail-fast"):
        raise SystemExit(int(ExitCode.TARGET_FAILED))


def _render(result: RunResult, out: Console) -> None:
    render_run(result, out)
    if result.target is not None:
        render_target(result.target, out)
    if result.shards is not None:
        render_shards(result.shards, out)


def _config(recording: Path | None, rerun: Path | None, options: dict[str, Any]) -> ReplayConfig:
    if rerun is None:
        if recording is None:
            raise click.UsageError("give a RECORDING, or --rerun RESULT.json")
        return make_config(recording, options.pop("backend"), **options)
    recorded = load_for_rerun(rerun)
    if isinstance(recorded, CompareResult):
        raise click.BadParameter(
            "this is a comparison: run it again with `treasure compare --rerun`",
            param_hint="'--rerun'",
        )
    assert recorded.config is not None
    return rerun_config(recorded.config, recording, **given_options(options))
