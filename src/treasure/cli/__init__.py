"""The `treasure` command: a click group with one module per command."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from treasure._version import __version__
from treasure.errors import TreasureError

# One module per command, each exposing `command`; order is the order of `--help`.
COMMAND_MODULES = (
    "generate",
    "import_",
    "inspect",
    "backends",
    "replay",
    "compare",
    "report",
    "gate",
    "baseline",
    "serve",
    "merge",
    "sweep",
    "soak",
)


class UserError(click.ClickException):
    """A `TreasureError` shown as one line with its documented exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]


class TreasureGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TreasureError as exc:
            raise UserError(str(exc), int(exc.exit_code)) from exc


@click.group(cls=TreasureGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="treasure")
def cli() -> None:
    """Replay captured YAML event traffic through parser backends and measure what each
    costs: latency, heap per message (native included), GC, RSS and CPU.

    \b
    Start here:
      treasure generate blowup-12k -o runs/blowup-12k.trec
      treasure compare runs/blowup-12k.trec
    """


for _name in COMMAND_MODULES:
    try:
        _module = import_module(f"treasure.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command still being built in this checkout
        if _exc.name != f"treasure.cli.{_name}":
            raise
        continue
    cli.add_command(_module.command)


def main() -> None:
    cli(prog_name="treasure")
