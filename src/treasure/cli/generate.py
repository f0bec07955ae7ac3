"""`treasure generate`: write a scenario's synthetic traffic to a recording."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from treasure.cli._options import json_option, output_option, progress_console
from treasure.generator import generate_recording
from treasure.scenarios import load_scenario

PROGRESS_FROM = 100_000  # shorter runs finish before a bar is worth drawing


@click.command(name="generate")
@click.argument("scenario")
@output_option("Recording file to write (overwritten).", required=True)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    help="Messages to write (default: the scenario's schedule).",
)
@click.option(
    "--seed", type=int, help="Random seed (default: the scenario's). Same seed, same bytes."
)
@click.option("--compress", is_flag=True, help="Compress the frame stream with zstd.")
@json_option
def command(
    scenario: str,
    output: Path,
    count: int | None,
    seed: int | None,
    compress: bool,
    as_json: bool,
) -> None:
    """Generate the traffic a SCENARIO describes (a name from scenarios/ or a YAML path)
    and write it to a recording. Deterministic: the same scenario and seed give a
    byte-identical file. Memory stays constant however many messages are written.

    \b
    Examples:
      treasure generate smoke -o runs/smoke.trec
      treasure generate blowup-12k -o runs/blowup-12k.trec --count 100000
      treasure generate soak-50k -o runs/soak.trec --count 1000000 --compress
      treasure generate my-workload.yaml -o runs/mine.trec --seed 7
    """
    workload = load_scenario(scenario)
    total = workload.count if count is None else count
    started = time.perf_counter()
    with Progress(
        TextColumn(f"generating {workload.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=progress_console(),
        transient=True,
        disable=total < PROGRESS_FROM,
    ) as progress:
        task = progress.add_task("generate", total=total)
        summary = generate_recording(
            workload,
            output,
            count=total,
            seed=seed,
            compress=compress,
            progress=lambda done: progress.update(task, completed=done),
        )
    elapsed = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    click.echo(
        f"wrote {summary.frames:,} messages from {summary.users:,} users "
        f"({summary.payload_bytes / summary.frames:,.0f} B average payload, "
        f"{summary.file_bytes:,} B file) to {summary.path} "
        f"[scenario {summary.scenario}, seed {summary.seed}, "
        f"{summary.frames / max(elapsed, 1e-9):,.0f} msg/s]"
    )
