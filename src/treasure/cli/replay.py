"""`treasure replay`: one recording through one backend, with true figures."""

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
from treasure.report.terminal import render_run
from treasure.runner.replay import run_replay


@click.command(name="replay")
@click.argument("recording", type=existing_file())
@click.option("-b", "--backend", default="pyyaml-dom", show_default=True, help="Backend name.")
@replay_options
@click.option("--heap", is_flag=True, help="Also measure heap per message with memray.")
@output_option()
@json_option
def command(
    recording: Path,
    backend: str,
    heap: bool,
    heap_messages: int,
    cpu: bool,
    artefacts: Path | None,
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
    """
    config = make_config(recording, backend, **options)
    if artefacts is None:
        artefacts = (output.parent if output else Path("runs")) / f"{backend}-artefacts"
    with PassProgressBar(enabled=not as_json) as bar:
        result = run_replay(
            config,
            heap=heap,
            heap_messages=heap_messages,
            cpu=cpu,
            artefact_dir=artefacts,
            progress=bar.update,
        )
    save_and_show(result, output, as_json, render_run)
    if result.stopped_early.startswith("--fail-fast"):
        raise SystemExit(int(ExitCode.TARGET_FAILED))
