"""Options shared by several commands, as reusable decorators."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from treasure.errors import TreasureError
from treasure.files import check_output

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables."
    )(func)


def output_option(
    help_text: str = "Write the result to this JSON file.", *, required: bool = False
) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            required=required,
            callback=_writable_output,
            help=help_text,
        )(func)

    return decorate


def _writable_output(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse a symlink, FIFO or device before any work, not after the run."""
    if value is not None:
        check_output(value)
    return value


class InputFile(click.Path):
    """A file a command reads. Missing or unreadable is bad input (exit 3, as README.md's
    exit codes say), not a bad command line (click's exit 2)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(value)
        if not path.exists():
            raise TreasureError(f"{path}: no such file")
        if path.is_dir():
            raise TreasureError(f"{path}: is a directory, not a file")
        if not os.access(path, os.R_OK):
            raise TreasureError(f"{path}: not readable")
        return super().convert(value, param, ctx)


def existing_file(**kwargs: Any) -> click.Path:
    return InputFile(exists=True, dir_okay=False, path_type=Path, **kwargs)


def console() -> Console:
    """The console commands print tables to (stdout); progress goes to stderr. Piped
    output (CI logs, files) gets a wide fixed width unless $COLUMNS names one."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
    return Console(highlight=False, soft_wrap=False, width=width)


def progress_console() -> Console:
    return Console(file=sys.stderr, highlight=False)
