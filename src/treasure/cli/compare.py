"""`treasure compare`: the same recording through several backends, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

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
)
from treasure.errors import ExitCode
from treasure.report.terminal import render_compare
from treasure.results import CompareResult, ReplayConfig
from treasure.runner.compare import DEFAULT_BASELINE


def _split(value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


@click.command(name="compare")
@click.argument("recording", type=existing_file(), required=False)
@click.option("-b", "--backends", help="Comma-separated backends (default: every available one).")
@click.option("--baseline", default=DEFAULT_BASELINE, show_default=True, help="Ratios against it.")
@replay_options
@heap_option(default=True)
@output_option()
@json_option
def command(
    recording: Path | None,
    backends: str | None,
    baseline: str,
    rerun: Path | None,
    output: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Replay RECORDING through several backends, each pass in its own fresh process,
    and show them side by side: µs per message, speed-up against the baseline, heap per
    message (native included), amplification, retained bytes, peak heap at the session
    model's users, GC collections per 1k messages, errors.

    \b
    Examples:
      treasure compare recordings/smoke.trec
      treasure compare run.trec -b pyyaml-dom,pyyaml-stream,rust-serde -o runs/cmp.json
      treasure compare run.trec --users 12000 --keep document --no-heap --json
      treasure compare --rerun runs/cmp.json -o runs/cmp-again.json
    """
    names = _split(backends)
    if rerun is None:
        if recording is None:
            raise click.UsageError("give a RECORDING, or --rerun RESULT.json")
        template = make_config(recording, "", **options)
    else:
        template, recorded_names = _recorded(rerun, recording, options)
        names = names or recorded_names
    with PassProgressBar(enabled=not as_json) as bar:
        result = api.compare(
            backends=names,
            baseline=baseline,
            config=template,
            output=output,
            progress=bar.update,
            on_backend=bar.set_backend,
        )
    save_and_show(result, output, as_json, render_compare)
    if not result.runs:
        raise SystemExit(int(ExitCode.TARGET_FAILED))


def _recorded(
    rerun: Path, recording: Path | None, options: dict[str, Any]
) -> tuple[ReplayConfig, list[str] | None]:
    recorded = load_for_rerun(rerun)
    if not isinstance(recorded, CompareResult):
        raise click.BadParameter(
            "this is one backend's run: run it again with `treasure replay --rerun`",
            param_hint="'--rerun'",
        )
    assert recorded.config is not None
    template = rerun_config(recorded.config, recording, **given_options(options))
    return template, recorded.backends or None
