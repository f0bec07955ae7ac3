"""`treasure merge`: the results of N shards (`replay --shard i/N`) into one result."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from treasure.cli._options import existing_file, json_option, output_option
from treasure.cli._replay_options import save_and_show
from treasure.cli._shard_view import render_shards
from treasure.errors import ResultError
from treasure.merge import ShardResult, merge
from treasure.report.terminal import render_run
from treasure.results import RunResult, load, save


@click.command(name="merge")
@click.argument("shards", nargs=-1, required=True, type=existing_file())
@output_option("Write the merged result to this JSON file.")
@json_option
def command(shards: tuple[Path, ...], output: Path | None, as_json: bool) -> None:
    """Merge the results of the N shards of one run (`treasure replay --shard i/N -o
    SHARD.json`) into one result: latency HDR histograms added bucket by bucket, counts
    and errors added, heap per message pooled; RSS and GC kept per shard. Refused unless
    they are the N shards of one plan, recording and configuration.

    \b
    Examples:
      treasure merge runs/shard-0.json runs/shard-1.json -o runs/merged.json
      treasure merge runs/shard-*.json -o runs/merged.json --json
    """
    loaded = []
    for path in shards:
        result = load(path)
        if not isinstance(result, RunResult):
            raise ResultError(f"{path}: a comparison, not a shard's replay result")
        loaded.append(ShardResult(source=str(path), run=result))
    merged = merge(loaded)
    if output is not None:
        save(merged, output)
    save_and_show(merged, output, as_json, render_merged)


def render_merged(result: RunResult, out: Console) -> None:
    render_run(result, out)
    if result.shards is not None:
        render_shards(result.shards, out)
