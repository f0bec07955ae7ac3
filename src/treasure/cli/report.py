"""`treasure report`: render saved results again, as tables, JSON or one HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from treasure.cli._options import console, existing_file, json_option
from treasure.cli._shard_view import render_shards
from treasure.cli._target_view import render_target
from treasure.growth import sweep
from treasure.report.soak import render_soak
from treasure.report.terminal import render
from treasure.results import RunResult, to_json


@click.command(name="report")
@click.argument("results", nargs=-1, required=True, type=existing_file())
@click.option(
    "-o",
    "--output",
    "--html",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one self-contained HTML report here instead of printing tables.",
)
@json_option
def command(results: tuple[Path, ...], output: Path | None, as_json: bool) -> None:
    """Re-render saved RESULTS (from replay, compare or sweep -o).

    \b
    Examples:
      treasure report runs/cmp.json
      treasure report runs/cmp.json -o runs/report.html
      treasure report runs/a.json runs/b.json --json
      treasure report runs/sweep.json --html runs/sweep.html
    """
    loaded = [sweep.load_any(path) for path in results]
    if output is not None:
        from treasure.report.html import render_html

        render_html(loaded, output)
        click.echo(f"report written to {output}")
        return
    for result in loaded:
        if as_json:
            if isinstance(result, sweep.SweepResult):
                click.echo(sweep.to_json(result))
            else:
                click.echo(to_json(result))
        else:
            render(result, console())
            if isinstance(result, RunResult) and result.target is not None:
                render_target(result.target, console())
            if isinstance(result, RunResult) and result.shards is not None:
                render_shards(result.shards, console())
            if isinstance(result, RunResult):
                render_soak(result, console())
