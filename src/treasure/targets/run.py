"""One replay against a live target: the recording's payloads on the open-model schedule,
the target spawned or attached and sampled, everything measured returned even when the
target died mid-run (then `failure` says how, and the caller exits 5)."""

from __future__ import annotations

import threading
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from treasure.errors import TargetError, TreasureError
from treasure.recordings import open_recording
from treasure.results import TargetFigures
from treasure.results.timeline import TargetTimeline
from treasure.shards import Shard, ShardPlan, select, wait_for_start, window_end
from treasure.targets.address import Address, Framing
from treasure.targets.native import Replies, native_sender_path, send_native
from treasure.targets.process import ProcessSampler, Spawned, alive, thinning
from treasure.targets.schedule import open_schedule
from treasure.targets.sender import Outcomes, send_stream
from treasure.targets.sender_http import send_http
from treasure.targets.summary import summarize_outcomes

SenderChoice = Literal["auto", "native", "python"]
READY_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class TargetRun:
    """How to replay a recording against a target (the target's part of a replay)."""

    recording: Path
    target: str
    pace: str = "rate:1000/s"
    limit: int | None = None
    warmup: int = 0  # messages sent first, one at a time, and not measured
    connections: int = 1
    framing: Framing = "length"
    spawn: str = ""
    target_pid: int | None = None
    reply_timeout_s: float = 5.0
    sender: SenderChoice = "auto"
    late_threshold_ns: int = 1_000_000
    artefact_dir: Path = Path("runs/target-artefacts")
    # a shard's part of the run (treasure.shards): its sessions' frames alone, on its
    # staggered share of the schedule, after the start shared with the other shards
    plan: ShardPlan | None = None
    start_at_ns: int | None = None
    # stop sending once the target's RSS (sampled every 50 ms) passes this; the replies to
    # what was sent are still read. Needs the target's pid, and the Python sender (the
    # native one runs its schedule to the end).
    until_rss_bytes: int | None = None


def read_payloads(path: Path, limit: int | None) -> tuple[list[bytes], list[int]]:
    payloads: list[bytes] = []
    timestamps: list[int] = []
    with open_recording(path, on_corrupt="skip") as reader:
        for frame in reader:
            if limit is not None and len(payloads) >= limit:
                break
            payloads.append(frame.payload)
            timestamps.append(frame.timestamp_ns)
    if not payloads:
        raise TreasureError(f"recording {path} holds no message to send")
    return payloads, timestamps


def read_shard(run: TargetRun, plan: ShardPlan) -> tuple[list[bytes], list[bytes], list[int]]:
    """A shard's warm-up payloads, then its measured payloads and their recorded times: its
    own sessions' frames of the run's window (frame index below `warmup` warms up)."""
    warm: list[bytes] = []
    payloads: list[bytes] = []
    timestamps: list[int] = []
    with open_recording(run.recording, on_corrupt="skip") as reader:
        shard = Shard(plan.index, plan.count)
        for frame in select(reader, shard, window_end(run.warmup, run.limit)):
            if frame.index < run.warmup:
                warm.append(frame.payload)
            else:
                payloads.append(frame.payload)
                timestamps.append(frame.timestamp_ns)
    if not payloads:
        raise TreasureError(
            f"shard {plan.index}/{plan.count} holds no message of {run.recording} to send "
            f"after the {run.warmup} of --warmup (fewer users than shards?)"
        )
    return warm, payloads, timestamps


def shard_schedule(plan: ShardPlan, timestamps: list[int]) -> array[int]:
    """A shard's send offsets from the shared start, on the whole run's schedule: rate/N
    from i/R, or the recorded times counted from the window's first measured frame."""
    if plan.pace == "max":
        return array("q", bytes(8 * len(timestamps)))
    if plan.pace.startswith("original"):
        origin = timestamps[0] if plan.origin_timestamp_ns is None else plan.origin_timestamp_ns
        return open_schedule(plan.pace, [origin, *timestamps], None)[1:]
    offsets = open_schedule(plan.pace, timestamps, len(timestamps))
    return array("q", (offset + plan.offset_ns for offset in offsets))


def run_target(run: TargetRun) -> TargetFigures:
    address = Address.parse(run.target)
    if run.connections < 1:
        raise TreasureError("--connections must be at least 1")
    if run.spawn and run.target_pid is not None:
        raise TreasureError("give --spawn or --target-pid, not both")
    if run.until_rss_bytes is not None and not (run.spawn or run.target_pid):
        raise TreasureError("--until rss: reads the target's RSS: give --spawn or --target-pid")
    if run.plan is not None:  # run.pace is the shard's own (rate/N of the run's rate)
        warm, payloads, timestamps = read_shard(run, run.plan)
        offsets = shard_schedule(run.plan, timestamps)
    else:
        wanted = run.limit + run.warmup if run.limit is not None else None
        payloads, timestamps = read_payloads(run.recording, wanted)
        warm, payloads, timestamps = (
            payloads[: run.warmup],
            payloads[run.warmup :],
            timestamps[run.warmup :],
        )
        if not payloads:
            raise TreasureError(
                f"the recording holds no message after the {run.warmup} of --warmup"
            )
        if run.pace == "max":  # closed loop: every message due at once, sent on each reply
            offsets = array("q", bytes(8 * len(payloads)))
        else:
            offsets = open_schedule(run.pace, timestamps, run.limit)
    sender = _choose_sender(run, address)
    figures = TargetFigures(
        target=str(address),
        transport=address.transport,
        framing="http" if address.transport == "http" else run.framing,
        sender=sender,
        connections=run.connections,
        pace=run.pace,
        scheduled=len(offsets),
        late_threshold_ns=run.late_threshold_ns,
    )
    spawned = _spawn(run, address)
    pid = spawned.pid if spawned else run.target_pid
    try:
        _warm_up(run, address, warm)
        if run.plan is not None:
            run.plan.started_ns = wait_for_start(run.start_at_ns)
        _send_sampled(run, address, sender, payloads, offsets, figures, pid)
        if run.plan is not None:
            sizes = Counter(len(payload) for payload in payloads[: figures.sent])
            run.plan.payload_sizes = sorted(sizes.items())
    finally:
        exit_code = spawned.stop() if spawned else None
    if spawned is not None:
        figures.artefacts["target_stderr"] = str(spawned.stderr_path)
        if figures.process is not None:
            figures.process.command = spawned.command
            figures.process.exit_code = exit_code
    return figures


def _warm_up(run: TargetRun, address: Address, warm: list[bytes]) -> None:
    """The warm-up messages, closed loop on one connection: caches and code paths of the
    target heated as in-process passes heat theirs; a target failing here fails the run."""
    if not warm:
        return
    zeros = array("q", bytes(8 * len(warm)))
    if address.transport == "http":
        outcomes = send_http(address, warm, zeros, reply_timeout_s=run.reply_timeout_s)
    else:
        outcomes = send_stream(
            address, run.framing, warm, zeros, reply_timeout_s=run.reply_timeout_s, closed=True
        )
    if outcomes.failures:
        raise TargetError(f"{address}: during the warm-up: {'; '.join(outcomes.failures[:2])}")


def _spawn(run: TargetRun, address: Address) -> Spawned | None:
    if not run.spawn:
        return None
    spawned = Spawned(run.spawn, run.artefact_dir / "target-stderr.log")
    spawned.wait_ready(address, READY_TIMEOUT_S)
    return spawned


def _send_sampled(
    run: TargetRun,
    address: Address,
    sender: str,
    payloads: list[bytes],
    offsets: array[int],
    figures: TargetFigures,
    pid: int | None,
) -> None:
    stop = threading.Event()
    # halt: send no more, read the replies to what was sent; an HTTP connection always
    # reads its request's reply before it looks at its stop flag, so one flag serves both
    halt = stop if address.transport == "http" else threading.Event()
    live: list[Outcomes | Replies] = []  # the sender's running count of replies
    sampler = (
        ProcessSampler(pid, lambda: _replies_so_far(live), run.until_rss_bytes) if pid else None
    )
    watcher = _watch(sampler, stop, halt) if sampler else None
    outcomes: Outcomes | None = None
    try:
        if sender == "native":
            send_native(
                address,
                payloads,
                offsets,
                figures,
                connections=run.connections,
                reply_timeout_s=run.reply_timeout_s,
                on_replies=live.append,
            )
        else:
            outcomes = _send_python(run, address, payloads, offsets, stop, halt, live)
    finally:
        if sampler is not None:
            sampler.finish()  # before summarising: the target's figures end with the send
            stop.set()
            assert watcher is not None
            watcher.join()
    if outcomes is not None:
        summarize_outcomes(figures, outcomes)
    if sampler is not None:
        figures.process = sampler.figures()
        figures.timeline = figures.timeline or TargetTimeline()
        figures.timeline.cpu_samples = sampler.cpu_samples[:: thinning(sampler.cpu_samples)]
        if sampler.died.is_set() or not alive(sampler.pid):
            died = f"the target (pid {sampler.pid}) exited during the run"
            figures.failure = f"{died}: {figures.failure}" if figures.failure else died


def _replies_so_far(live: list[Outcomes | Replies]) -> int:
    if not live:
        return 0
    found = live[0]
    return found.replies_so_far if isinstance(found, Outcomes) else found.count


def _send_python(
    run: TargetRun,
    address: Address,
    payloads: list[bytes],
    offsets: array[int],
    stop: threading.Event,
    halt: threading.Event,
    progress: list[Outcomes | Replies],
) -> Outcomes:
    if address.transport == "http":
        return send_http(
            address,
            payloads,
            offsets,
            connections=run.connections,
            reply_timeout_s=run.reply_timeout_s,
            stop=stop,
            on_outcomes=progress.append,
        )
    return send_stream(
        address,
        run.framing,
        payloads,
        offsets,
        connections=run.connections,
        reply_timeout_s=run.reply_timeout_s,
        stop=stop,
        halt=halt,
        on_outcomes=progress.append,
        closed=run.pace == "max",
    )


def _watch(
    sampler: ProcessSampler, stop: threading.Event, halt: threading.Event
) -> threading.Thread:
    """Stop the send as soon as the sampled target dies: no waiting for timeouts; halt it
    (the replies to what was sent still read) once the target's RSS passed --until."""

    def watch() -> None:
        while not stop.wait(0.05):
            if sampler.died.is_set():
                stop.set()
            if sampler.reached.is_set():
                halt.set()

    thread = threading.Thread(target=watch, daemon=True)
    sampler.start()
    thread.start()
    return thread


def _choose_sender(run: TargetRun, address: Address) -> str:
    if run.sender == "python" or (run.sender == "auto" and run.until_rss_bytes is not None):
        return "python"  # only the Python senders can stop mid-schedule
    usable = address.transport != "http" and run.framing == "length" and run.pace != "max"
    if run.sender == "native":
        if run.until_rss_bytes is not None:
            raise TreasureError("the native sender cannot stop at --until: use the Python one")
        if not usable:
            raise TreasureError(
                "the native sender speaks length-prefixed unix/tcp on an open-model pace only"
            )
        if native_sender_path() is None:
            raise TreasureError("the native sender is not built: make install builds it with cargo")
        return "native"
    return "native" if usable and native_sender_path() is not None else "python"


def report_line(figures: TargetFigures) -> str:
    """The one-line account of a run that ended early: what was sent and answered."""
    errors = sum(figures.errors.values())
    return (
        f"{figures.target}: {figures.failure}; sent {figures.sent} of {figures.scheduled}, "
        f"answered {figures.answered} ({figures.routed} routed, {errors} errors), "
        f"{figures.timeouts} timed out, {figures.lost} lost, {figures.unsent} unsent"
    )
