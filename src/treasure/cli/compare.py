"""`treasure compare`: the same recording through several backends, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from treasure.cli._options import existing_file, json_option, output_option
from treasure.cli._replay_options import (
    PassProgressBar,
    make_config,
    replay_options,
    save_and_show,
)
from treasure.errors import ExitCode
from treasure.report.terminal import render_compare
from treasure.results import save
from treasure.runner.compare import DEFAULT_BASELINE, run_compare


def _split(value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


@click.command(name="compare")
@click.argument("recording", type=existing_file())
@click.option("-b", "--backends", help="Comma-separated backends (default: every available one).")
@click.option("--baseline", default=DEFAULT_BASELINE, show_default=True, help="Ratios against it.")
@replay_options
@click.option("--no-heap", is_flag=True, help="Skip the heap pass (memray).")
@output_option()
@json_option
def command(
    recording: Path,
    backends: str | None,
    baseline: str,
    no_heap: bool,
    heap_messages: int,
    cpu: bool,
    artefacts: Path | None,
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
    """
    template = make_config(recording, "", **options)
    if artefacts is None:
        artefacts = (output.parent if output else Path("runs")) / "artefacts"
    with PassProgressBar(enabled=not as_json) as bar:
        result = run_compare(
            template,
            _split(backends),
            baseline=baseline,
            heap=not no_heap,
            heap_messages=heap_messages,
            cpu=cpu,
            artefact_dir=artefacts,
            progress=bar.update,
            on_backend=bar.set_backend,
            on_result=(lambda partial: save(partial, output)) if output else None,
        )
    save_and_show(result, output, as_json, render_compare)
    if not result.runs:
        raise SystemExit(int(ExitCode.TARGET_FAILED))
