"""`treasure backends`: what can parse, and what to install for what cannot."""

from __future__ import annotations

import json

import click
from rich.table import Table

from treasure.cli._options import console, json_option
from treasure.parsers import discover
from treasure.probes import visibility


@click.command(name="backends")
@click.option(
    "--check-heap",
    is_flag=True,
    help="Load each backend in a fresh process and read the ELF imports of the libraries it "
    "brings in, to decide whether memray can see its native heap.",
)
@json_option
def command(check_heap: bool, as_json: bool) -> None:
    """List the parser backends: kind, library and version, whether each is available
    (or how to install it) and whether its native heap is measurable.

    \b
    Examples:
      treasure backends
      treasure backends --check-heap
      treasure backends --json | jq '.[] | select(.available) | .name'
    """
    infos = discover().values()
    for info in infos:
        if check_heap and info.available:
            found = visibility.check(info.name)
            info.heap_measurable = found["measurable"] is True
            info.heap_note = str(found["how"])
        elif info.heap_measurable:
            info.heap_note = "declared"
    if as_json:
        rows = [
            {
                "name": i.name,
                "kind": i.kind,
                "library": i.library,
                "version": i.version,
                "available": i.available,
                "problem": i.problem,
                "install": i.install_hint,
                "heap_measurable": i.heap_measurable,
                "heap_note": i.heap_note,
                "source": i.source,
            }
            for i in infos
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="parser backends (entry-point group treasure.parsers)")
    for header in ("backend", "kind", "library", "status", "native heap"):
        table.add_column(header)
    for i in infos:
        status = "available" if i.available else f"{i.problem}; install: {i.install_hint}"
        verdict = "measurable" if i.heap_measurable else "not measurable"
        heap = f"{verdict}: {i.heap_note}"
        library = f"{i.library} {i.version}".strip() or "-"
        table.add_row(i.name, i.kind, library, status, heap if i.available else "-")
    console().print(table)
    if not check_heap:
        # said once, not on every row
        click.echo(
            "native heap: declared by each backend, not checked; --check-heap reads the "
            "ELF imports of the libraries each one loads"
        )
