"""Options that replay and compare share: what to replay and how."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from treasure.cli._options import console, progress_console
from treasure.results import ReplayConfig, Result, save, to_json

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option("--limit", type=click.IntRange(min=1), help="Measure at most N messages."),
    click.option(
        "--warmup",
        type=click.IntRange(min=0),
        default=50,
        show_default=True,
        help="Messages sent first and not measured (caches, interned strings).",
    ),
    click.option(
        "--pace",
        default="max",
        show_default=True,
        help="max (back to back), original (recorded gaps), original:K (K× faster), rate:N/s.",
    ),
    click.option(
        "--users",
        type=click.IntRange(min=0),
        default=0,
        help="Users whose state the router keeps (0: every user in the recording).",
    ),
    click.option(
        "--keep",
        type=click.Choice(["nothing", "record", "document"]),
        default="nothing",
        show_default=True,
        help="What the router keeps per user: nothing, the routed record, or the whole tree.",
    ),
    click.option(
        "--in-flight",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Messages being handled at once: their results stay referenced.",
    ),
    click.option("--fail-fast", is_flag=True, help="Stop at the first malformed message."),
    click.option(
        "--pass-timeout",
        type=click.FloatRange(min=0, min_open=True),
        help="Kill a pass still running after this many seconds (a backend that hangs); "
        "compare records it as failed and goes on.",
    ),
    click.option(
        "--heap-messages",
        type=click.IntRange(min=1),
        default=2000,
        show_default=True,
        help="Messages traced by the heap pass, spread over the recording.",
    ),
    click.option("--cpu", is_flag=True, help="Also profile CPU with py-spy, in its own pass."),
    click.option(
        "--artefacts",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where captures and profiles go (default: beside -o, else runs/).",
    ),
]


def replay_options(func: F) -> F:
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def save_and_show(
    result: Result, output: Path | None, as_json: bool, render: Callable[[Any, Console], None]
) -> None:
    """Save the result if asked, then print it as JSON or as tables."""
    if output is not None:
        save(result, output)
    if as_json:
        click.echo(to_json(result))
        return
    render(result, console())
    if output is not None:
        click.echo(f"result written to {output}", err=True)


def make_config(recording: Path, backend: str, **options: Any) -> ReplayConfig:
    return ReplayConfig(
        backend=backend,
        recording=str(recording),
        limit=options["limit"],
        warmup=options["warmup"],
        pace=options["pace"],
        users=options["users"],
        keep=options["keep"],
        in_flight=options["in_flight"],
        fail_fast=options["fail_fast"],
        pass_timeout_s=options["pass_timeout"],
    )


class PassProgressBar:
    """A rich progress bar on stderr, one task per (backend, pass)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=progress_console(),
            disable=not enabled,
            transient=True,
        )
        self.backend = ""
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> PassProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def set_backend(self, name: str) -> None:
        self.backend = name

    def update(self, pass_name: str, done: int, total: int) -> None:
        key = f"{self.backend} {pass_name}".strip()
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(key, total=total or None)
        self.progress.update(self.tasks[key], completed=done, total=total or None)
