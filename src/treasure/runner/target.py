"""A replay against a live service, as a RunResult: `--target ADDRESS` (a router already
running, or started by `--spawn`), or `--transport unix|tcp|http` (the backend served by
`treasure serve` on that transport, started and stopped here)."""

from __future__ import annotations

import shlex
import socket
import sys
import tempfile
from pathlib import Path

from treasure.errors import TreasureError
from treasure.parsers import resolve
from treasure.passes.timing import host_info, now_iso, recording_users
from treasure.recordings import open_recording
from treasure.results import LatencySummary, RecordingInfo, ReplayConfig, RunResult, TargetFigures
from treasure.shards import Shard, ShardPlan, plan_of, window_end
from treasure.targets.run import TargetRun, report_line, run_target


def run_label(config: ReplayConfig) -> str:
    """How a served run is named beside in-process ones: `rust-serde@unix`, or the target."""
    if config.target:
        return config.target
    return (
        config.backend if config.transport == "inproc" else f"{config.backend}@{config.transport}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _served(config: ReplayConfig, scratch: Path) -> tuple[str, str]:
    """The address and the `treasure serve` command for `--transport`."""
    serve = [sys.executable, "-m", "treasure.cli", "serve", config.backend]
    serve += ["--route", config.routing]
    if config.transport != "http":
        serve += ["--framing", config.framing]
    if config.transport == "unix":
        path = scratch / "target.sock"
        return f"unix:{path}", shlex.join([*serve, "--unix", str(path)])
    port = _free_port()  # on 127.0.0.1 only
    if config.transport == "tcp":
        return f"tcp:127.0.0.1:{port}", shlex.join([*serve, "--tcp", f"127.0.0.1:{port}"])
    address = f"http://127.0.0.1:{port}/route"
    return address, shlex.join([*serve, "--http", f"127.0.0.1:{port}"])


def run_served(
    config: ReplayConfig, artefact_dir: Path, start_at_ns: int | None = None
) -> RunResult:
    """The whole run; a target that failed mid-run still returns (see `target.failure`).
    A shard (`config.shard`) sends its own sessions' frames, on its staggered share of the
    schedule, after `start_at_ns` (a start shared with the other shards, epoch ns)."""
    if "," in config.transport:
        raise TreasureError("replay takes one --transport; compare takes a list")
    plan = _plan(config, start_at_ns)
    with tempfile.TemporaryDirectory(prefix="treasure-target-") as scratch:
        if config.target:
            address, spawn = config.target, config.spawn
        else:
            resolve(config.backend)  # an unknown backend fails here, not in the service
            address, spawn = _served(config, Path(scratch))
        figures = run_target(
            TargetRun(
                recording=Path(config.recording),
                target=address,
                pace=config.pace if plan is None else plan.pace,
                limit=config.limit,
                warmup=config.warmup,
                connections=config.connections,
                framing=config.framing,
                spawn=spawn,
                target_pid=config.target_pid,
                reply_timeout_s=config.reply_timeout_s,
                artefact_dir=artefact_dir,
                plan=plan,
                start_at_ns=start_at_ns,
                until_rss_bytes=config.soak.until_rss_bytes if config.soak else None,
            )
        )
    result = as_run_result(config, figures)
    if plan is not None:
        result.shard = plan
        result.recording = _shard_sent(config, plan, figures.sent)
        if result.latency is not None:  # kept for `treasure merge`, which adds them up
            result.latency.hdr, result.latency.corrected_hdr = figures.hdr, figures.corrected_hdr
    return result


def _plan(config: ReplayConfig, start_at_ns: int | None) -> ShardPlan | None:
    if not config.shard:
        return None
    end = window_end(config.warmup, config.limit)
    with open_recording(config.recording, on_corrupt="skip") as reader:
        plan = plan_of(reader, Shard.parse(config.shard), config.warmup, end, config.pace)
    plan.start_at_ns = start_at_ns
    return plan


def _shard_sent(config: ReplayConfig, plan: ShardPlan, sent: int) -> RecordingInfo:
    """What a shard sent the target: the first `sent` of its measured frames."""
    with open_recording(config.recording, on_corrupt="skip") as reader:
        scenario = str(reader.header.metadata.get("scenario", "") or "")
    return RecordingInfo(
        path=config.recording,
        messages_measured=sent,
        payload_bytes_measured=sum(size * count for size, count in plan.payload_sizes),
        users=recording_users(Path(config.recording)),  # as an in-process shard says
        scenario=scenario,
    )


def sent_recording(config: ReplayConfig, sent: int) -> RecordingInfo:
    """What the target was sent: message i is the i-th payload after the warm-up, mod the
    payloads read (targets.run); their bytes and distinct users, as the timing pass counts
    its measured messages'."""
    sizes: list[int] = []
    users: set[str] = set()
    wanted = None if config.limit is None else config.limit + config.warmup
    with open_recording(config.recording, on_corrupt="skip") as reader:
        scenario = str(reader.header.metadata.get("scenario", "") or "")
        for read, frame in enumerate(reader):  # counted as targets.run reads: good frames
            if wanted is not None and read >= wanted:
                break
            if read >= config.warmup:
                sizes.append(len(frame.payload))
                if len(sizes) <= sent:
                    users.add(frame.user_id)
    cycles, rest = divmod(sent, len(sizes)) if sizes else (0, 0)
    return RecordingInfo(
        path=config.recording,
        messages_measured=sent,
        payload_bytes_measured=cycles * sum(sizes) + sum(sizes[:rest]),
        users=len(users),
        scenario=scenario,
    )


def as_run_result(config: ReplayConfig, figures: TargetFigures) -> RunResult:
    unanswered = {"timeout": figures.timeouts, "lost": figures.lost}
    errors = figures.errors | {name: count for name, count in unanswered.items() if count}
    latency = None
    if figures.latency_uncorrected is not None:
        latency = LatencySummary(
            uncorrected=figures.latency_uncorrected,
            corrected=figures.latency_corrected,
            percentile_curve=figures.uncorrected_curve,
            corrected_curve=figures.corrected_curve,
        )
    seconds = figures.duration_ns / 1e9
    return RunResult(
        created_at=now_iso(),
        backend=run_label(config),
        backend_kind="service",
        library=figures.transport,
        library_version=figures.sender,
        config=config,
        recording=sent_recording(config, figures.sent),
        host=host_info(),
        messages=figures.sent,
        errors=errors,
        stopped_early=report_line(figures) if figures.failure else "",
        duration_ns=figures.duration_ns,
        throughput_per_s=figures.answered / seconds if seconds else 0.0,
        latency=latency,
        target=figures,
        artefacts=dict(figures.artefacts),
    )
