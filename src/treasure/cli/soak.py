"""`treasure soak`: growth per message over a long run, with its interval and a verdict."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from treasure import api
from treasure.cli._options import console, existing_file, json_option, output_option
from treasure.cli._replay_options import (
    PassProgressBar,
    build_config,
    save_and_show,
    soak_shard_options,
)
from treasure.errors import ConfigError, ExitCode
from treasure.growth.soak import DEFAULT_RESOLUTION_BYTES, DEFAULT_WARMUP, SoakConfig
from treasure.quantities import Unit, parse_quantity
from treasure.report.soak import render_soak
from treasure.report.terminal import render_run
from treasure.results import RunResult

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PASSED = ("pace", "users", "keep", "in_flight", "routing", "pass_timeout_s", "target", "spawn",
           "target_pid", "transport", "shard", "start_at")  # fmt: skip
_OPTION = {"messages": "--messages", "duration": "--duration", "warmup": "--warmup",
           "until": "--until", "resolution": "--resolution", "sample_every": "--sample-every",
           "soak": "--messages"}  # fmt: skip


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    match = _DURATION.match(value)
    if match is None:
        raise click.BadParameter(f"{value!r}: write e.g. 30s, 500ms, 10m or 1h")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _until(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    kind, _, size = value.partition(":")
    if kind != "rss" or not size:
        raise click.BadParameter(f"{value!r}: write rss:SIZE, e.g. rss:2GiB")
    try:
        return int(parse_quantity(size, Unit.BYTES))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


def _bytes(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_quantity(value, Unit.BYTES)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


@click.command(name="soak")
@click.argument("recording", type=existing_file())
@click.option("-b", "--backend", required=True, help="Backend name (or module:Class).")
@click.option(
    "--messages",
    type=int,
    help="Send this many messages in all, the recording "
    "looped with fresh session ids as often as needed.",
)
@click.option("--duration", callback=_duration, help="Or send for this long: 30s, 10m, 1h.")
@click.option(
    "--pace", default="max", show_default=True, help="max, original, original:K or rate:N/s."
)
@click.option(
    "--warmup",
    default=DEFAULT_WARMUP,
    show_default=True,
    help="Messages (N) or share of them (N%) left out of the fit.",
)
@click.option(
    "--until",
    callback=_until,
    metavar="rss:SIZE",
    help="Stop cleanly once the soaked process's RSS (a target's: needs its pid) passes SIZE.",
)
@click.option(
    "--resolution",
    default=f"{DEFAULT_RESOLUTION_BYTES:g} B",
    show_default=True,
    callback=_bytes,
    help="Growth per message below which a run may call it flat "
    "(the floor of the detection limit).",
)
@click.option(
    "--sample-every",
    type=int,
    help="Messages between samples (default: chosen so that sampling costs under 1 % of the loop).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The bootstrap's seed.")
@click.option(
    "--users",
    type=int,
    default=0,
    help="Users whose state the router keeps (0: every user, fresh ones each loop).",
)
@click.option(
    "--keep",
    type=click.Choice(["nothing", "record", "document"]),
    default="nothing",
    show_default=True,
    help="What the router keeps per user.",
)
@click.option("--in-flight", type=int, default=1, help="Messages whose results stay referenced.")
@click.option("--route", "routing", default="", help="Routing fields (docs/routing.md).")
@click.option(
    "--pass-timeout", "pass_timeout_s", type=float, help="Kill the soak after this many seconds."
)
@click.option(
    "--target",
    default="",
    metavar="ADDRESS",
    help="Soak a live router instead: "
    "unix:PATH, tcp:HOST:PORT or http://HOST:PORT/PATH; its RSS is sampled.",
)
@click.option(
    "--spawn",
    default="",
    metavar="CMD",
    help="Start the target with this command and stop it at the end.",
)
@click.option("--target-pid", type=int, help="Sample this running target process.")
@click.option("--transport", default="inproc", show_default=True, help="inproc, or unix, tcp, "
              "http: the backend behind `treasure serve`, soaked as a live target.")  # fmt: skip
@soak_shard_options
@output_option()
@json_option
def command(recording: Path, output: Path | None, as_json: bool, **options: Any) -> None:
    """Replay RECORDING through one backend for a message count or a duration, sampling
    RSS, live heap (pymalloc + malloc counters) and GC over time, and estimate growth per
    message after the warm-up: a least-squares slope with a 95 % block-bootstrap interval,
    and a verdict read from the interval: growing, flat or can't tell. Exit 5 when --until
    stopped the run (the result is saved first).

    \b
    Examples:
      treasure soak recordings/smoke.trec -b rust-serde --messages 20000
      treasure soak run.trec -b pyyaml-dom --keep document --duration 5m -o runs/soak.json
      treasure soak run.trec -b pyyaml-dom --keep document --until rss:2GiB --duration 1h
      treasure soak run.trec -b rust-serde --transport unix --pace rate:2000/s --duration 30s
      treasure soak run.trec -b pyyaml-dom --duration 10m --shard 1/4 -o runs/soak-1.json

    With --shard i/N, this process soaks shard i's sessions alone (each loop's frames of
    the users whose id hashes to i), at rate/N, for its own --messages or --duration.
    """
    config = build_config(
        {"backend": options.pop("backend"), "recording": str(recording), "warmup": 0},
        {**{k: options.pop(k) for k in _PASSED}, "soak": _soak(options)},
    )  # fmt: skip
    with PassProgressBar(enabled=not as_json) as bar:
        try:
            result = api.soak(config=config, output=output, progress=bar.update)
        except ConfigError as exc:  # refused before anything ran
            flag = _OPTION.get(exc.field, f"--{exc.field}")
            raise click.BadParameter(exc.problem, param_hint=f"'{flag}'") from exc
    save_and_show(result, output, as_json, render_soak_run)
    if result.soak is not None and result.soak.stop_reason:
        if not as_json:
            console().print(f"stopped: {result.soak.stop_reason}")
        raise SystemExit(int(ExitCode.TARGET_FAILED))


def render_soak_run(run: RunResult, out: Console) -> None:
    render_run(run, out)
    render_soak(run, out)


def _soak(options: dict[str, Any]) -> SoakConfig:
    try:
        return SoakConfig(
            messages=options["messages"],
            duration_s=options["duration"],
            warmup=options["warmup"],
            until_rss_bytes=options["until"],
            resolution_bytes=options["resolution"],
            sample_every=options["sample_every"],
            seed=options["seed"],
        )
    except ConfigError as exc:
        raise click.BadParameter(exc.problem, param_hint=f"'{_OPTION[exc.field]}'") from exc
