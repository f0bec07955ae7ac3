"""Options that replay and compare share: what to replay and how."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from treasure.cli._options import console, existing_file, progress_console
from treasure.errors import ConfigError
from treasure.results import CompareResult, ReplayConfig, Result, RunResult, load, to_json
from treasure.routing import configured_routing

F = TypeVar("F", bound=Callable[..., Any])


def _default(field: str) -> Any:
    return {f.name: f.default for f in msgspec.structs.fields(ReplayConfig)}[field]


# (ReplayConfig field, option, click arguments): defaults and checks are the config's own.
_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("limit", "--limit", {"type": int, "help": "Measure at most N messages."}),
    ("warmup", "--warmup", {"type": int, "help": "Messages sent first and not measured "
                            "(caches, interned strings)."}),
    ("pace", "--pace", {"help": "max (back to back), original (recorded gaps), original:K "
                        "(K× faster), rate:N/s; to a target also ramp:A..B/s:Ds and "
                        "steps:A/s:Ds,B/s:Es,..."}),
    ("users", "--users", {"type": int, "help": "Users whose state the router keeps "
                          "(0: every user in the recording)."}),
    ("keep", "--keep", {"type": click.Choice(["nothing", "record", "document"]),
                        "help": "What the router keeps per user: nothing, the routed record, "
                        "or the whole tree."}),
    ("in_flight", "--in-flight", {"type": int, "help": "Messages being handled at once: "
                                  "their results stay referenced."}),
    ("fail_fast", "--fail-fast", {"is_flag": True,
                                  "help": "Stop at the first malformed message."}),
    ("pass_timeout_s", "--pass-timeout", {"type": float, "help": "Kill a pass still running "
                                          "after this many seconds (a backend that hangs); "
                                          "compare records it as failed and goes on."}),
    ("start_timeout_s", "--start-timeout", {"type": float, "help": "Kill a pass whose "
                                            "backend has not started after this many "
                                            "seconds (a plugin that hangs at import)."}),
    ("heap_messages", "--heap-messages", {"type": int, "help": "Messages traced by the heap "
                                          "pass, spread over the recording."}),
    ("cpu", "--cpu", {"is_flag": True, "help": "Also profile CPU with py-spy, in its own pass."}),
    ("cpu_rate_hz", "--cpu-rate", {"type": int, "help": "py-spy samples per second."}),
    ("transport", "--transport", {"help": "inproc: the backend in this process; unix, tcp, "
                                  "http: behind `treasure serve` on that transport (compare: "
                                  "a comma-separated list, side by side)."}),
    ("target", "--target", {"metavar": "ADDRESS", "help": "Send to a live router instead: "
                            "unix:PATH, tcp:HOST:PORT or http://HOST:PORT/PATH."}),
    ("spawn", "--spawn", {"metavar": "CMD", "help": "Start the target with this command, wait "
                          "for its socket, stop it at the end; its stderr is kept."}),
    ("target_pid", "--target-pid", {"type": int, "help": "Sample RSS and CPU of this "
                                    "running target process."}),
    ("connections", "--connections", {"type": int, "help": "Connections to the target; "
                                      "messages go round-robin, many in flight on each."}),
    ("framing", "--framing", {"type": click.Choice(["length", "lines"]), "help": "Frames to a "
                              "unix/tcp target: 4-byte length prefixes, or JSON lines."}),
    ("reply_timeout_s", "--reply-timeout", {"type": float, "help": "Seconds a target may "
                                            "leave a message unanswered before the run "
                                            "ends with exit 5."}),
    ("routing", "--route", {"metavar": "PATH[:scalar],...", "help": "Routing fields, dotted "
                            "paths from the top-level mapping (docs/routing.md; default: "
                            "[routing] fields of treasure.toml, else event_type,player_id,"
                            "session_id)."}),
    ("artefacts", "--artefacts", {"type": click.Path(file_okay=False), "help": "Where captures "
                                  "and profiles go (default: beside -o as NAME.artefacts/, "
                                  "else a fresh folder under runs/)."}),
    ("capture_budget", "--capture-budget", {"metavar": "SIZE", "help": "Disk the heap "
                                            "pass's memray capture may take, e.g. 512 MiB "
                                            "(default: 2 GiB or half the free space of its "
                                            "folder, the smaller); the pass stops there and "
                                            "its figures are marked partial."}),
    ("rounds", "--rounds", {"type": int, "help": "compare: time the backends again in N "
                            "interleaved rounds (A B C, B C A, ...), each speed-up the median "
                            "of its per-round ratios with a 95 % interval (0: none)."}),
]  # fmt: skip
# Sharding (treasure.shards, treasure.cluster): replay's; a soak takes --shard and --start-at.
START_AT_OPTION: tuple[str, str, dict[str, Any]] = (
    "start_at", "--start-at", {"metavar": "TIME", "help": "With --shard: wait for this "
                               "start shared with the other shards (epoch seconds or ISO 8601 "
                               "UTC, e.g. 2026-01-01T07:00:00Z) before the timed loop; how "
                               "late it began is recorded."},
)  # fmt: skip
_SHARD_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("shard", "--shard", {"metavar": "i/N", "help": "Replay shard i of N alone (0 ≤ i < N): "
                          "the users whose id hashes to i, at rate/N; auto/N takes i from "
                          "$JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)."}),
    ("shards", "--shards", {"type": int, "help": "Run N shards on a Dask cluster, each in "
                            "its own worker process, with a shared start, and merge them."}),
    ("cluster", "--cluster", {"metavar": "tcp://HOST:PORT", "help": "The Dask scheduler "
                              "for --shards (default: a local cluster of worker processes, "
                              "started and stopped here)."}),
    START_AT_OPTION,
]  # fmt: skip
OPTION_OF = {field: flag for field, flag, _ in [*_OPTIONS, *_SHARD_OPTIONS]}


def _with_options(func: F, options: list[tuple[str, str, dict[str, Any]]]) -> F:
    for field, flag, arguments in reversed(options):
        default = _default(field)
        shown = default not in (None, "", False)
        func = click.option(flag, field, default=default, show_default=shown, **arguments)(func)
    return func


def shard_options(func: F) -> F:
    """--shard i/N, --shards N, --cluster ADDRESS."""
    return _with_options(func, _SHARD_OPTIONS)


def soak_shard_options(func: F) -> F:
    """--shard i/N and --start-at TIME: a soak of one shard's sessions."""
    shard = next(option for option in _SHARD_OPTIONS if option[0] == "shard")
    return _with_options(func, [shard, START_AT_OPTION])


def replay_options(func: F) -> F:
    """Every ReplayConfig option, plus --rerun RESULT.json."""
    func = _with_options(func, _OPTIONS)
    return click.option(
        "--rerun",
        type=existing_file(),
        help="Run again with the options recorded in this result; options given here win.",
    )(func)


def heap_option(default: bool) -> Callable[[F], F]:
    return click.option(
        "--heap/--no-heap",
        "heap",
        default=default,
        show_default=True,
        help="Measure heap per message with memray, in its own pass.",
    )


def given_options(options: dict[str, Any]) -> dict[str, Any]:
    """The replay options typed on this command line (not left at their defaults)."""
    ctx = click.get_current_context()
    return {
        field: options[field]
        for field in [*OPTION_OF, "heap", "backend"]
        if field in options
        and ctx.get_parameter_source(field) is click.core.ParameterSource.COMMANDLINE
    }


def build_config(base: dict[str, Any], overrides: dict[str, Any]) -> ReplayConfig:
    """A ReplayConfig; a value it refuses is a usage error naming the option."""
    merged = {**base, **overrides}
    try:
        if not merged.get("routing"):  # not given, nor recorded in a result rerun
            configured = configured_routing()
            merged["routing"] = str(configured) if configured else ""
        return ReplayConfig(**merged)
    except ConfigError as exc:
        raise click.BadParameter(
            exc.problem, param_hint=f"'{OPTION_OF.get(exc.field, exc.field)}'"
        ) from exc
    except ValueError as exc:  # the routing spec of treasure.toml
        raise click.BadParameter(str(exc), param_hint="'--route'") from exc


def make_config(recording: Path, backend: str, **options: Any) -> ReplayConfig:
    fields = {field: options[field] for field in [*OPTION_OF, "heap"] if field in options}
    return build_config({"backend": backend, "recording": str(recording)}, fields)


def rerun_config(recorded: ReplayConfig, recording: Path | None, **overrides: Any) -> ReplayConfig:
    """The recorded options with those typed on this command line (and RECORDING) on top."""
    if recording is not None:
        overrides["recording"] = str(recording)
    # a recorded shared start has passed: a rerun starts at once unless given a new one
    return build_config({**msgspec.structs.asdict(recorded), "start_at": ""}, overrides)


def load_for_rerun(path: Path) -> Result:
    result = load(path)
    config = result.config if isinstance(result, RunResult | CompareResult) else None
    if config is None:
        raise click.BadParameter(
            "this result does not record its options (written by an older treasure)",
            param_hint="'--rerun'",
        )
    return result


def save_and_show(
    result: Result, output: Path | None, as_json: bool, render: Callable[[Any, Console], None]
) -> None:
    """Print a result (the library saved it to `output`) as JSON or as tables."""
    if as_json:
        click.echo(to_json(result))
        return
    render(result, console())
    if output is not None:
        click.echo(f"result written to {output}", err=True)


class PassProgressBar:
    """A rich progress bar on stderr, one task per (backend, pass); where stderr is not a
    terminal (CI logs, pipes), one line per finished pass instead."""

    def __init__(self, enabled: bool) -> None:
        out = progress_console()
        self.lines = not out.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
            disable=not enabled or self.lines,
            transient=True,
        )
        self.backend = ""
        self.tasks: dict[str, TaskID] = {}
        self.current: tuple[str, int, int, float] | None = None  # key, done, total, start

    def __enter__(self) -> PassProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        self._finish()

    def set_backend(self, name: str) -> None:
        self.backend = name

    def update(self, pass_name: str, done: int, total: int) -> None:
        key = f"{self.backend} {pass_name}".strip()
        if self.current is None or self.current[0] != key:
            self._finish()
            self.current = (key, done, total, time.monotonic())
        self.current = (key, done, total, self.current[3])
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(key, total=total or None)
        self.progress.update(self.tasks[key], completed=done, total=total or None)

    def _finish(self) -> None:
        """The line of the pass that just ended, where no bar shows it."""
        if self.lines and self.current is not None:
            key, done, total, started = self.current
            seconds = time.monotonic() - started
            click.echo(f"{key} pass: {done}/{total} messages, {seconds:.1f} s", err=True)
        self.current = None
