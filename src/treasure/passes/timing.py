"""The timing pass: one backend, one recording, no tracer attached.

Only `handler(payload)` sits between the two clock reads; everything else the loop does
(reading frames, the session model, sampling RSS) happens outside them. Raw latencies go
into preallocated arrays and are summarised after the loop.
"""

from __future__ import annotations

import gc
import hashlib
import os
import platform
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treasure._version import __version__
from treasure.pacing import Pacer, wait_until
from treasure.parsers import BackendInfo, ParseError, create, resolve
from treasure.passes.rss_harness import HARNESS_BACKEND, harness_growth
from treasure.probes.gc import GcProbe
from treasure.probes.latency import counted_distribution, summarize
from treasure.probes.rss import RssSampler, reset_peak
from treasure.recordings import Frame, count_frames, open_recording
from treasure.results import ErrorSample, HostInfo, RecordingInfo, ReplayConfig, RunResult
from treasure.sessions import SessionModel, handler_for
from treasure.shards import (
    OWNED_CACHE,
    Shard,
    ShardPlan,
    align,
    plan_of,
    select,
    wait_for_start,
    window_end,
)

# The measured loop in Rust (rust/src/python.rs `FrameRun.time`): the same window, less
# around it, over a native run of frames, no Python object per frame but the payload.
if TYPE_CHECKING:
    from treasure_rs._native import FrameRun as Run
    from treasure_rs._native import InFlight
try:
    from treasure_rs._native import FrameRun as _NativeRun
    from treasure_rs._native import InFlight as _NativeInFlight
except ImportError:  # treasure-rs not built: the loop below in Python
    NATIVE_TIMING: type[Run] | None = None
    NATIVE_IN_FLIGHT: type[InFlight] | None = None
else:
    NATIVE_TIMING, NATIVE_IN_FLIGHT = _NativeRun, _NativeInFlight

Progress = Callable[[int], None]
MAX_ERROR_SAMPLES = 20
SAMPLE_EVERY = 1000  # messages between RSS samples and progress reports
WINDOW_END = 3  # FrameRun.time's event: a frame past the run's window (a shard's `end`)
CORRUPT_FRAME = "corrupt-frame"
UNCLASSIFIED = "unclassified"  # a backend raised something other than ParseError: a bug
CONTRACT_VIOLATION = "contract-violation"  # route() returned something not a Routed tuple


def host_info() -> HostInfo:
    return HostInfo(
        python=platform.python_version(),
        platform=platform.platform(),
        cpus=os.cpu_count() or 0,
        treasure=__version__,
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_identity(info: BackendInfo, config: ReplayConfig) -> dict[str, Any]:
    """What every pass's RunResult says first: when, which backend, which run, which host."""
    return {
        "created_at": now_iso(),
        "backend": info.name,
        "backend_kind": info.kind,
        "library": info.library,
        "library_version": info.version,
        "config": config,
        "host": host_info(),
    }


class _Tally:
    """Errors by category, with the first few kept as samples."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[ErrorSample] = []

    def add(self, frame_index: int, category: str, message: str) -> None:
        self.counts[category] += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(
                ErrorSample(frame_index=frame_index, category=category, message=message[:300])
            )


def wrong_type(routed: object) -> str:
    return f"route() returned a {type(routed).__name__}, not a tuple of the routing fields"


def recording_users(path: Path) -> int:
    """Users the recording says it has, else its distinct user ids (counted here, once:
    a set kept through the loop grew the pass's memory by ~220 B per new user)."""
    with open_recording(path, on_corrupt="skip") as reader:
        said = int(str(reader.header.metadata.get("users", 0) or 0))
        return said or len({frame.user_id for frame in reader})


def _preallocated(count: int) -> array[int]:
    """Room for `count` raw figures, its pages touched now: appending one per message grew
    a no-op run's RSS by 7.8-13.0 B per message (16.0-21.5 paced), read as the backend's.
    Built by repetition, with no temporary buffer: one that size, freed, raises glibc's mmap
    threshold and moved the session model's tables (-14 B per message against the
    harness-only rerun with --keep record)."""
    return array("q", [0]) * count


class _Measured:
    """What the measured loop collects. Per message it only stores into arrays sized for
    the run (`capacity` messages at most); the routed frames' digest and the size histogram
    are brought up to date every SAMPLE_EVERY messages, so they cost one C call per
    thousand and their memory stays flat."""

    def __init__(self, paced: bool, fail_fast: bool, capacity: int) -> None:
        self.fail_fast = fail_fast
        self.latencies = _preallocated(capacity)
        self.corrected = _preallocated(capacity) if paced else None
        self.sizes: Counter[int] = Counter()  # payload size -> messages: flat, unlike an array
        self.pending_sizes: array[int] = array("q")
        self.routed = hashlib.sha256()  # which frames routed, so runs can be told to cover the same
        self.pending_routed: array[int] = array("q")
        self.routed_count = 0
        self.tally = _Tally()
        self.stopped_early = ""

    def flush(self) -> None:
        """Fold the pending sizes and routed indices into the histogram and the digest."""
        self.sizes.update(self.pending_sizes)
        routed = self.pending_routed
        if sys.byteorder != "little":
            routed.byteswap()  # the digest is of 8-byte little-endian frame indices
        self.routed.update(routed.tobytes())
        self.routed_count += len(routed)
        del self.pending_sizes[:], self.pending_routed[:]

    def failed(self, index: int, category: str, message: str, exc: BaseException) -> None:
        self.tally.add(index, category, message)
        if self.fail_fast:
            shown = str(exc) if isinstance(exc, ParseError) else repr(exc)
            self.stopped_early = f"--fail-fast: frame {index}: {shown}"


def _classify(out: _Measured, index: int, event: int, value: object) -> None:
    """What the native loop stopped at, after frame `index`: an exception the handler
    raised, or (event 2) a value that is not a tuple; counted as the Python loop counts them."""
    if event == 2:
        out.tally.add(index, CONTRACT_VIOLATION, wrong_type(value))
    elif isinstance(value, ParseError):
        out.failed(index, value.category.value, value.detail, value)
    else:
        assert isinstance(value, Exception)
        out.failed(index, UNCLASSIFIED, f"{type(value).__name__}: {value}", value)


class _Runs:
    """A reader's runs (`RecordingReader.runs`), the one being taken kept: the warm-up takes
    Frame objects one at a time, the native measured loop the rest of that run, then the
    next runs whole."""

    def __init__(self, runs: Iterator[Run | tuple[Frame]]) -> None:
        self._runs = runs
        self._current: Run | None = None

    def frames(self) -> Iterator[Frame]:
        for run in self._runs:
            self._current = None if isinstance(run, tuple) else run
            yield from run
        self._current = None

    def rest(self) -> Iterator[Run | tuple[Frame]]:
        """What `frames` has not given, in runs."""
        if self._current is not None:
            yield self._current
        yield from self._runs


@dataclass(slots=True)
class _Chunk:
    """The native loop's routed indices since the last flush (SAMPLE_EVERY at most)."""

    routed: array[int] = field(default_factory=lambda: _preallocated(SAMPLE_EVERY))
    measured: int = 0
    routed_at: int = 0

    def hand_over(self, out: _Measured) -> None:
        out.pending_routed.extend(self.routed[: self.routed_at])
        self.measured = self.routed_at = 0


def _measure_natively(
    first: Frame | None,
    runs: _Runs,
    shard: Shard | None,
    end: int | None,
    config: ReplayConfig,
    handler: Callable[[bytes], object],
    session: SessionModel,
    rss: RssSampler,
    progress: Progress | None,
    out: _Measured,
    limit: int,
) -> int:
    """The unpaced measured loop with its per-message part in Rust: each native run's
    frames through `FrameRun.time` with no Frame object built, the odd Frame (the first
    measured, one the Python reader judged) as a run of its own. Per message, the same
    window (`handler(payload)` between two clock reads), the same stores, the same session
    model calls and the same shard selection as the Python loop; what it stops at (an
    exception, a non-tuple) is classified here. Returns the messages measured."""
    assert NATIVE_TIMING is not None
    assert NATIVE_IN_FLIGHT is not None  # imported with NATIVE_TIMING
    stateless = config.keep == "nothing"
    keep: Callable[..., object] | InFlight = session.admit
    if stateless:  # a native in-flight window is kept by the loop itself, with no call
        window = session.in_flight
        keep = window if isinstance(window, NATIVE_IN_FLIGHT) else window.append
    check_type = config.keep != "document"
    # the session model's user ids (and a shard's verdicts), one string per distinct user
    users = NATIVE_TIMING.user_ids(OWNED_CACHE) if shard is not None or not stateless else None
    owns = shard.owns if shard is not None else None
    latencies, chunk, sizes = out.latencies, _Chunk(), NATIVE_TIMING.size_counts()
    pending = runs.rest()
    run: Run | tuple[Frame] | None = (first,) if first is not None else next(pending, None)
    measured = 0
    while run is not None and measured < limit:
        if isinstance(run, tuple):
            (frame,) = run
            run = NATIVE_TIMING.single(
                Frame, frame.index, frame.timestamp_ns, frame.user_id, frame.payload
            )
        most = min(limit - measured, SAMPLE_EVERY - chunk.measured)
        taken, routed_at, event, value, index = run.time(
            handler, latencies, measured, sizes, chunk.routed, chunk.routed_at, keep,
            stateless, check_type, most, users, owns, end,
        )  # fmt: skip
        measured += taken
        chunk.measured += taken
        chunk.routed_at = routed_at
        if event == WINDOW_END:
            break
        if event:
            _classify(out, index, event, value)
            del value
            if out.stopped_early:
                break
        if chunk.measured == SAMPLE_EVERY:
            chunk.hand_over(out)
            out.flush()
            rss.sample(measured)
            if progress is not None:
                progress(measured)
        if not event and taken < most:  # used up
            run = next(pending, None)
    chunk.hand_over(out)
    out.flush()
    out.sizes.update(dict(sizes.items()))
    return measured


def _measure(
    first: Frame | None,
    frames: Iterator[Frame],
    runs: _Runs | None,
    selection: tuple[Shard | None, int | None],
    config: ReplayConfig,
    handler: Callable[[bytes], object],
    session: SessionModel,
    pacer: Pacer,
    rss: RssSampler,
    progress: Progress | None,
    intact_frames: int,
) -> tuple[_Measured, int]:
    """The measured loop: only `handler(payload)` between the two clock reads. In Rust
    over the reader's `runs` when given (the rest of the frames, `selection` the shard and
    window end they are selected by), else in Python over `frames`."""
    limit = config.limit if config.limit is not None else sys.maxsize
    # at most every intact frame is measured (a damaged one in the warm-up leaves one more)
    out = _Measured(pacer.paced, config.fail_fast, min(limit, intact_frames))
    if runs is not None:
        shard, end = selection
        measured = _measure_natively(
            first, runs, shard, end, config, handler, session, rss, progress, out, limit
        )
        del out.latencies[measured:]
        return out, measured
    clock = time.perf_counter_ns
    check_type = config.keep != "document"  # a document router hands back the tree
    stateless, admit, keep_in_flight = (
        config.keep == "nothing",
        session.admit,
        session.in_flight.append,
    )
    latencies, corrected = out.latencies, out.corrected
    size, routed = out.pending_sizes.append, out.pending_routed.append
    measured, next_sample = 0, SAMPLE_EVERY
    for frame in chain((first,) if first is not None else (), frames):
        if measured >= limit:
            break
        payload = frame.payload
        if corrected is not None:
            intended = pacer.intended(measured, frame.timestamp_ns)
            wait_until(intended)
        t0 = clock()
        try:
            handled = handler(payload)
            t1 = clock()
            if check_type and type(handled) is not tuple:
                out.tally.add(frame.index, CONTRACT_VIOLATION, wrong_type(handled))
            else:
                routed(frame.index)
        except ParseError as exc:
            t1 = clock()
            handled = None
            out.failed(frame.index, exc.category.value, exc.detail, exc)
        except Exception as exc:
            t1 = clock()
            handled = None
            out.failed(frame.index, UNCLASSIFIED, f"{type(exc).__name__}: {exc}", exc)
        latencies[measured] = t1 - t0
        if corrected is not None:
            corrected[measured] = t1 - intended
        size(len(payload))
        if stateless:
            keep_in_flight(handled)
        else:
            admit(frame.user_id, handled)
        measured += 1
        if out.stopped_early:
            break
        if measured == next_sample:
            next_sample += SAMPLE_EVERY
            out.flush()
            rss.sample(measured)
            if progress is not None:
                progress(measured)
    out.flush()
    del latencies[measured:]
    if corrected is not None:
        del corrected[measured:]
    return out, measured


def shard_of_run(config: ReplayConfig) -> Shard | None:
    return Shard.parse(config.shard) if config.shard else None


def _plan(
    config: ReplayConfig, shard: Shard | None, end: int | None, start_at_ns: int | None
) -> ShardPlan | None:
    """A shard's plan, counted over the recording before the loop (None: not a shard)."""
    if shard is None:
        return None
    with open_recording(Path(config.recording), on_corrupt="skip") as reader:
        plan = plan_of(reader, shard, config.warmup, end, config.pace)
    plan.start_at_ns = start_at_ns
    return plan


def run_timing_pass(
    config: ReplayConfig,
    progress: Progress | None = None,
    intact_frames: int | None = None,
    start_at_ns: int | None = None,
    python_loop: bool = False,
) -> RunResult:
    """`intact_frames`: the recording's, when the caller has counted them already;
    `start_at_ns`: a start shared with other shards (epoch ns), waited for after warm-up;
    `python_loop`: the measured loop in Python, for a sampling profiler (py-spy), which
    reads the loop's Python frames from a stack the native loop would hide them in."""
    info = resolve(config.backend)
    backend = create(config.backend, routing=config.routing_spec)
    handler = handler_for(backend, config.keep)
    if progress is not None:
        progress(0)  # the first report: the backend is constructed
    session = SessionModel(config.users, config.keep, config.in_flight)
    shard = shard_of_run(config)
    end = window_end(config.warmup, config.limit)
    plan = _plan(config, shard, end, start_at_ns)
    pacer = Pacer.parse(plan.pace if plan is not None else config.pace)
    rss = RssSampler(SAMPLE_EVERY)
    admit = session.admit
    users = recording_users(Path(config.recording))  # before the loop: it stays flat
    if intact_frames is None:
        intact_frames = count_frames(Path(config.recording))
    # the measured loop in Rust, over the reader's runs, unless paced or asked for in Python
    native = NATIVE_TIMING is not None and not pacer.paced and not python_loop
    if native and NATIVE_IN_FLIGHT is not None:
        session.in_flight = NATIVE_IN_FLIGHT(config.in_flight)  # the same window, in Rust
    gc.collect()
    reset_peak()
    with open_recording(Path(config.recording), on_corrupt="skip") as reader, GcProbe() as gcp:
        runs = _Runs(reader.runs()) if native else None
        source = runs.frames() if runs is not None else iter(reader)
        frames = source if shard is None else select(source, shard, end)
        frame: Frame | None
        for frame in frames:  # warm-up: through the handler, not measured
            if frame.index >= config.warmup:
                break
            try:
                admit(frame.user_id, handler(frame.payload))
            except Exception:  # counted when measured; warm-up only heats caches
                admit(frame.user_id, None)
        else:
            frame = None
        if plan is not None:
            plan.started_ns = wait_for_start(start_at_ns)
        gcp.reset()
        pacer.start()
        if plan is not None:
            align(pacer, plan)  # onto the whole run's schedule, staggered with the others
        started = time.perf_counter_ns()
        out, measured = _measure(
            frame, frames, runs, (shard, end), config, handler, session, pacer, rss, progress,
            intact_frames,
        )  # fmt: skip
        duration = time.perf_counter_ns() - started
        rss.sample(measured)
        integrity = reader.integrity
        metadata = reader.header.metadata
    tally, sizes, latencies, corrected = out.tally, out.sizes, out.latencies, out.corrected
    stopped_early = out.stopped_early
    rss.close()
    for index in integrity.corrupt_frames:
        tally.add(index, CORRUPT_FRAME, "checksum mismatch: frame skipped")
    stopped_early = stopped_early or integrity.stop_reason()
    if progress is not None:
        progress(measured)
    if plan is not None:
        plan.payload_sizes = sorted(sizes.items())
    return RunResult(
        **run_identity(info, config),
        recording=RecordingInfo(
            path=config.recording,
            messages_measured=measured,
            payload_bytes_measured=sum(size * count for size, count in sizes.items()),
            users=users,
            scenario=str(metadata.get("scenario", "") or ""),
            frames_in_recording=integrity.recorded_frames,
        ),
        messages=measured,
        errors=dict(tally.counts),
        error_samples=tally.samples,
        stopped_early=stopped_early,
        duration_ns=duration,
        throughput_per_s=measured / (duration / 1e9) if duration else 0.0,
        payload_size=counted_distribution(sizes) if sizes else None,
        latency=summarize(latencies, corrected, plan is not None) if latencies else None,
        gc=gcp.summary(measured),
        rss=rss.summary(
            None if config.backend == HARNESS_BACKEND else lambda: harness_growth(config)
        ),
        routed_count=out.routed_count,
        routed_digest=out.routed.hexdigest(),
        shard=plan,
    )
