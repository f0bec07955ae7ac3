"""`treasure sweep`: one run per number of users, and where cost per user bends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from treasure import api
from treasure.cli._options import (
    _writable_output,
    console,
    existing_file,
    json_option,
    output_option,
)
from treasure.cli._replay_options import (
    _OPTIONS,
    OPTION_OF,
    PassProgressBar,
    _default,
    make_config,
)
from treasure.errors import ConfigError, TargetError
from treasure.growth.sweep import SweepPoint, SweepResult, to_json
from treasure.report.sweep import point_line
from treasure.report.terminal import render
from treasure.runner.sweep import DEFAULT_SWEEP_HEAP_MESSAGES, PointPlan, sweep_axis

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_BACKEND = "pyyaml-dom"
# The replay options a sweep takes: a users sweep runs in process, with the heap pass; a
# rate sweep sends to a live target (the target options), its pace set by each point.
SWEEP_FIELDS = (
    "limit", "warmup", "keep", "in_flight", "fail_fast", "pass_timeout_s", "start_timeout_s",
    "heap_messages", "transport", "target", "spawn", "target_pid", "connections", "framing",
    "reply_timeout_s", "routing", "artefacts",
)  # fmt: skip
SWEEP_DEFAULTS = {"heap_messages": DEFAULT_SWEEP_HEAP_MESSAGES}
ARTEFACTS_HELP = "Keep each point's memray capture under DIR/users-N/ (default: not kept)."


def sweep_options(func: F) -> F:
    for field, flag, arguments in reversed(_OPTIONS):
        if field not in SWEEP_FIELDS:
            continue
        default = SWEEP_DEFAULTS.get(field, _default(field))
        if field == "artefacts":
            arguments = {**arguments, "help": ARTEFACTS_HELP}
        shown = default not in (None, "", False)
        func = click.option(flag, field, default=default, show_default=shown, **arguments)(func)
    return func


def counts(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int]:
    """A comma-separated list of whole numbers >= 1, ascending, each once."""
    if value is None:
        return []
    try:
        found = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give whole numbers, e.g. 1000,2000,4000") from None
    if not found or any(count < 1 for count in found):
        raise click.BadParameter(f"{value!r}: give one or more counts, each >= 1")
    return sorted(set(found))


@click.command(name="sweep")
@click.argument("recording", type=existing_file())
@click.option("-b", "--backend", default=DEFAULT_BACKEND, show_default=True, help="Backend name.")
@click.option(
    "--users",
    "users",
    callback=counts,
    metavar="N,N,...",
    help="User counts, one run each: the router keeps that many users' state.",
)
@click.option(
    "--rate",
    "rates",
    callback=counts,
    metavar="R,R,...",
    help="Or rates in messages/s, one run each against --target or --transport.",
)
@sweep_options
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_writable_output,
    help="Also write the HTML report (the points, the fit, the knee) here.",
)
@output_option()
@json_option
def command(
    recording: Path,
    backend: str,
    users: list[int],
    rates: list[int],
    html: Path | None,
    output: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Replay RECORDING once per user count, each run in its own processes: run peak heap
    (memray), peak RSS and its growth, GC collections per 1k messages and p99 latency per
    point; then, per figure, the knee where cost per user stops being linear, or "linear
    throughout". A point replays the recording up to its N-th distinct user with --users N.
    With --rate, the same messages go to a live target at each rate instead: its RSS and
    the p99 latency from intended send times, and their knees per msg/s.

    \b
    Examples:
      treasure sweep runs/blowup-12k.trec -b pyyaml-dom --keep document --users 1000,2000,4000
      treasure sweep run.trec -b rust-serde --users 1000,2000,4000,8000 -o runs/sweep.json
      treasure sweep run.trec -b rust-serde --transport unix --rate 1000,5000,10000,20000
      treasure report runs/sweep.json --html runs/sweep.html
    """
    config = make_config(recording, backend, **options)
    try:  # a usage error here, before any point runs
        sweep_axis(config, users, rates)
    except ConfigError as exc:
        flag = OPTION_OF.get(exc.field, f"--{exc.field}")
        raise click.BadParameter(exc.problem, param_hint=f"'{flag}'") from None
    progress = _PointProgress(len(users) + len(rates), enabled=not as_json)

    def done(partial: SweepResult, point: SweepPoint) -> None:
        progress.stop()
        click.echo(point_line(partial, point), err=True)

    try:
        result = api.sweep(
            config=config, users=users, rates=rates, output=output, progress=progress.update,
            on_point=progress.start, on_result=done,
        )  # fmt: skip
    finally:
        progress.stop()
    _finish(result, output, html, as_json)


class _PointProgress:
    """A point's line, then its passes' progress bars, closed when the point ends."""

    def __init__(self, points: int, enabled: bool) -> None:
        self.points, self.enabled = points, enabled
        self.bar: PassProgressBar | None = None

    def start(self, index: int, plan: PointPlan) -> None:
        self.stop()
        click.echo(
            f"point {index + 1}/{self.points}: {plan.label}, {plan.frames:,} messages", err=True
        )
        self.bar = PassProgressBar(enabled=self.enabled).__enter__()
        self.bar.set_backend(plan.label)

    def update(self, pass_name: str, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(pass_name, done, total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _finish(result: SweepResult, output: Path | None, html: Path | None, as_json: bool) -> None:
    """The sweep as JSON or tables (the library saved it to `output`), and the HTML."""
    if html is not None:
        from treasure.report.html import render_html

        render_html([result], html)
    if as_json:
        click.echo(to_json(result))
    else:
        render(result, console())
    for path, what in ((output, "result"), (html, "report")):
        if path is not None:
            click.echo(f"{what} written to {path}", err=True)
    if not result.measured:
        raise TargetError(f"no point of the sweep was measured: {result.points[0].error}")
