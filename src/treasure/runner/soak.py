"""`treasure soak`: one backend replayed for a message count or a duration in its own worker
process (`passes.soak`), then growth per message fitted after the warm-up (`growth.soak`)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import msgspec

from treasure.errors import ConfigError, TreasureError
from treasure.growth.soak import SoakConfig, SoakSummary, judge
from treasure.pacing import Pacer
from treasure.passes.launch import PassProgress, run_worker
from treasure.quantities import Unit, format_quantity
from treasure.recordings import count_frames
from treasure.results import ReplayConfig, RunResult, save
from treasure.runner.replay import artefacts_beside, check_inputs
from treasure.runner.target import run_served


def run_soak(
    config: ReplayConfig, *, output: Path | None = None, progress: PassProgress | None = None
) -> RunResult:
    """Soak `config.backend`; the result (saved to `output` when given) holds the samples,
    each series' slope with its interval and the verdict. A run stopped by its --until guard
    is saved too, with the reason and where it stopped."""
    soak = config.soak
    if soak is None:
        raise ConfigError("soak", "a soak needs its options (messages or duration)")
    if config.served:
        check_target_until(config, soak)
    check_inputs(config)
    result = _soak_target(config, soak, output) if config.served else _soak_inproc(config, progress)
    if result.soak is None or result.messages == 0:
        raise TreasureError(f"{config.backend}: the soak measured no message")
    judge(result.soak, soak)
    if output is not None:
        save(result, output)
    return result


def _soak_inproc(config: ReplayConfig, progress: PassProgress | None) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="treasure-soak-") as scratch:
        config_path = Path(scratch) / "config.json"
        config_path.write_bytes(msgspec.json.encode(config))
        finished = run_worker("soak", config_path, config, progress)
    result = msgspec.json.decode(finished.figures, type=RunResult)
    result.config = config
    return result


def target_messages(soak: SoakConfig, pace: str) -> int:
    """How many messages a soak sends to a target: its count, or its duration at its rate."""
    if soak.messages is not None:
        return soak.messages
    pacer = Pacer.parse(pace) if pace.startswith("rate:") else None
    if pacer is None or soak.duration_s is None:
        raise TreasureError("a soak against a target for a --duration needs --pace rate:N/s")
    return max(2, int(pacer.rate * soak.duration_s))


def check_target_until(config: ReplayConfig, soak: SoakConfig) -> None:
    """`--until rss:` against a target reads the target's RSS from /proc/PID: refused
    before anything is sent when no pid will be known (a target neither spawned nor
    attached, e.g. on another machine)."""
    if (
        soak.until_rss_bytes is not None
        and config.target
        and not (config.spawn or config.target_pid)
    ):
        raise ConfigError(
            "until",
            f"--until rss: reads the target's RSS from /proc/PID, and {config.target} has "
            "none known here: give --spawn CMD or --target-pid PID (a remote target's RSS "
            "cannot be read from this machine)",
        )


def _soak_target(config: ReplayConfig, soak: SoakConfig, output: Path | None) -> RunResult:
    """The same soak against a live service: its RSS (from /proc/PID, every 50 ms) over the
    replies answered. The recording's payloads repeat as they are, and so do its sessions: a
    target keys its state by what the payload says, which a soak does not rewrite."""
    if config.shard:
        raise TreasureError(
            "a sharded soak runs in process: a soak against a target repeats the recording's "
            "payloads whole (give --shard without --target and --transport)"
        )
    if not (config.spawn or config.target_pid or not config.target):
        raise TreasureError("a soak samples the target's RSS: give --spawn or --target-pid")
    messages = target_messages(soak, config.pace)
    served = msgspec.structs.replace(config, limit=messages, warmup=0)
    result = run_served(served, artefacts_beside(config, output))
    result.config = config
    process = result.target.process if result.target is not None else None
    if process is None:
        raise TreasureError("no target process was sampled: give --spawn or --target-pid")
    stop_reason = result.stopped_early
    if process.stopped_at_request is not None and process.stopped_at_rss_bytes is not None:
        reached = (
            f"--until rss:{format_quantity(soak.until_rss_bytes or 0, Unit.BYTES)}: the "
            f"target's RSS reached {format_quantity(process.stopped_at_rss_bytes, Unit.BYTES)} "
            f"at request {process.stopped_at_request:,}"
        )
        stop_reason = f"{stop_reason}; {reached}" if stop_reason else reached
        result.stopped_early = stop_reason
    result.soak = SoakSummary(
        messages=result.messages,
        warmup_messages=soak.warmup_messages(result.messages),
        loops=math.ceil(result.messages / max(1, count_frames(Path(config.recording)))),
        recording_frames=count_frames(Path(config.recording)),
        sample_every=0,
        samples=[(answered, ms, rss, 0, 0, 0) for ms, answered, rss in process.samples],
        heap_unavailable="a live target's heap is not visible from here: RSS from /proc/PID",
        stop_reason=stop_reason,
        stopped_at_message=process.stopped_at_request,
        stopped_at_rss_bytes=process.stopped_at_rss_bytes,
        target=True,
    )
    return result
