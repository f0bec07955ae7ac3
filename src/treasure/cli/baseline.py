"""`treasure baseline save|update`: keep a small result to gate regressions against."""

from __future__ import annotations

from pathlib import Path

import click

from treasure.cli._options import existing_file, output_option
from treasure.gate.baseline import merge, strip
from treasure.quantities import Unit, format_quantity
from treasure.results import Result, load, runs_of, save


@click.group("baseline")
def command() -> None:
    """Store a result as the baseline `treasure gate --baseline` compares against, stripped
    of timelines, curves and histograms so it is small enough to commit.

    \b
    Example:
      treasure compare recordings/smoke.trec -o cmp.json
      treasure baseline save cmp.json -o baselines/smoke.json
      treasure gate cmp.json --baseline baselines/smoke.json
    """


@command.command("save")
@click.argument("result", type=existing_file())
@output_option("The baseline file to write (replaced if it exists).", required=True)
def save_command(result: Path, output: Path) -> None:
    """Write RESULT, stripped, as a new baseline.

    \b
    Example:
      treasure baseline save runs/cmp.json -o baselines/smoke.json
    """
    _write(strip(load(result)), output)


@command.command("update")
@click.argument("result", type=existing_file())
@output_option("The baseline file to update (created if missing).", required=True)
def update_command(result: Path, output: Path) -> None:
    """Replace the runs of the backends RESULT holds in an existing baseline; runs of other
    backends stay as they were.

    \b
    Example:
      treasure replay recordings/smoke.trec --backend rust-serde -o run.json
      treasure baseline update run.json -o baselines/smoke.json
    """
    fresh = load(result)
    _write(merge(load(output), fresh) if output.exists() else strip(fresh), output)


def _write(baseline: Result, output: Path) -> None:
    save(baseline, output)
    size = output.stat().st_size
    backends = ", ".join(run.backend for run in runs_of(baseline))
    click.echo(f"wrote {output} ({format_quantity(size, Unit.BYTES)}; {backends})")
