"""The soak pass: one backend, a recording looped for a message count or a duration, memory
sampled over time. `python -m treasure.passes.worker --pass soak` runs it in a fresh process.

Each loop after the first gives every user a fresh id (`u-7` becomes `u-7/1`, `u-7/2`...):
the session model then keeps new users' state as production's router keeps its new
sessions', so growth that follows users keeps growing, as it would. Payloads are replayed
as recorded.

Every K messages a sample is taken: RSS, the live heap (`probes.live_heap`), collections so
far. K is chosen after a short calibration so that sampling costs under 1 % of the loop
(`TARGET_SHARE`), and the cost it had is measured and reported. Samples go to preallocated
arrays; when they fill, every other one is dropped and K doubles, so the harness itself does
not grow with the run. Nothing is kept per message.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

from treasure.errors import ConfigError
from treasure.growth.soak import SoakConfig, SoakSummary
from treasure.pacing import Pacer, wait_until
from treasure.parsers import ParseError, create, resolve
from treasure.passes.timing import (
    CONTRACT_VIOLATION,
    UNCLASSIFIED,
    _Tally,
    recording_users,
    run_identity,
    wrong_type,
)
from treasure.probes.gc import GcProbe
from treasure.probes.live_heap import LiveHeap, fill_dict_free_lists
from treasure.probes.rss import RssSampler, peak_rss, reset_peak
from treasure.quantities import Unit, format_quantity
from treasure.recordings import count_frames, open_recording
from treasure.results import RecordingInfo, ReplayConfig, RssSummary, RunResult
from treasure.sessions import SessionModel, handler_for
from treasure.shards import Shard, align, parse_start_at, plan_of, wait_for_start

Progress = Callable[[int], None]
TARGET_SHARE = 0.005  # of the loop's time spent sampling: half the 1 % allowed
CALIBRATION = 256  # messages timed before K is chosen
MIN_SAMPLES = 64  # a run of known length gets at least this many samples
CAPACITY = 1024  # samples kept; when full, every other is dropped and K doubles
GUARDS_PER_SAMPLE = 8  # --until reads RSS this many times per sample (2 µs a read)
FIELDS = 6  # message, ms, rss, pymalloc, malloc, collections
RECENT_COSTS = 63  # samples whose median cost steers K
HEAP_COUNTER = "pymalloc bytes in allocated blocks + malloc bytes in use (mallinfo2)"


class Samples:
    """Fixed-size columns of samples, thinned by half when full."""

    def __init__(self) -> None:
        self.columns = [array("q", bytes(8 * CAPACITY)) for _ in range(FIELDS)]
        self.count = 0

    def add(self, values: tuple[int, ...]) -> bool:
        """Store one sample; True when the columns were thinned (K must double)."""
        for column, value in zip(self.columns, values, strict=True):
            column[self.count] = value
        self.count += 1
        if self.count < CAPACITY:
            return False
        for column in self.columns:
            column[: CAPACITY // 2] = column[::2]
        self.count = CAPACITY // 2
        return True

    def rows(self) -> list[tuple[int, int, int, int, int, int]]:
        message, ms, rss, python, native, collections = self.columns
        return [
            (message[i], ms[i], rss[i], python[i], native[i], collections[i])
            for i in range(self.count)
        ]

    @property
    def last_message(self) -> int:
        return self.columns[0][self.count - 1] if self.count else -1


def looped_frames(
    path: Path, pacer: Pacer, loops: list[int], shard: Shard | None = None
) -> Iterator[tuple[str, bytes, int]]:
    """(user id, payload, intended send ns) forever, the recording replayed loop after loop;
    `loops[0]` counts the loops started. A loop's timestamps follow the previous one's.
    A shard's loop holds its own sessions' frames, timed as in the whole recording's loop."""
    sequence, offset = 0, 0
    owns = shard.owns if shard is not None and shard.count > 1 else None
    owned: dict[str, bool] = {}
    while True:
        suffix = f"/{loops[0]}" if loops[0] else ""
        loops[0] += 1
        last = first = None
        frames = 0
        with open_recording(path, on_corrupt="skip") as reader:
            for frame in reader:
                first = frame.timestamp_ns if first is None else first
                last = frame.timestamp_ns
                frames += 1
                if owns is not None:
                    mine = owned.get(frame.user_id)
                    if mine is None:
                        mine = owned[frame.user_id] = owns(frame.user_id)
                    if not mine:
                        continue
                intended = (
                    pacer.intended(sequence, offset + frame.timestamp_ns) if pacer.paced else 0
                )
                sequence += 1
                yield frame.user_id + suffix, frame.payload, intended
        if first is None or last is None:
            return  # nothing readable: the caller stops
        # the next loop starts one mean gap after this one's last message
        offset += last - first + max(1, (last - first) // max(1, frames - 1))


class SoakLoop:
    """The loop's state between checkpoints: samples, the sampling interval, the guard."""

    def __init__(self, soak: SoakConfig, progress: Progress | None) -> None:
        self.soak, self.progress = soak, progress
        self.rss = RssSampler()
        self.heap = LiveHeap()
        self.samples = Samples()
        self.every = soak.sample_every or 1
        self.guard_every = self.every
        self.sampling_ns = 0
        # the last RECENT_COSTS sample costs, a ring of machine integers: a deque of int
        # objects grew the heap the loop measures by ~2.5 KiB until it was full
        self.costs = array("q", bytes(8 * RECENT_COSTS))
        self.taken = 0
        self.started = 0
        self.deadline = (
            time.perf_counter_ns() + int(soak.duration_s * 1e9) if soak.duration_s else None
        )
        self.stop_reason = ""
        self.stopped_at: tuple[int, int] | None = None
        self.calibrated = soak.sample_every is not None

    def first_checkpoint(self) -> int:
        if self.soak.sample_every is not None:
            return self._guard_interval()
        return min(CALIBRATION, self.soak.messages or CALIBRATION)

    def sample(self, sent: int) -> None:
        t0 = time.perf_counter_ns()
        rss = self.rss.read()
        python, native = self.heap.read() if not self.heap.unavailable else (0, 0)
        collections = sum(stats["collections"] for stats in gc.get_stats())
        ms = (t0 - self.started) // 1_000_000
        if self.samples.add((sent, ms, rss, python, native, collections)):
            self.every *= 2
            self.guard_every = self._guard_interval()
        cost = time.perf_counter_ns() - t0
        self.sampling_ns += cost
        self.costs[self.taken % RECENT_COSTS] = cost
        self.taken += 1

    @property
    def median_cost(self) -> int:
        recent = self.costs[: min(self.taken, RECENT_COSTS)]
        return int(statistics.median(recent)) if recent else 0

    def _guard_interval(self) -> int:
        if self.soak.until_rss_bytes is None:
            return self.every
        return max(1, self.every // GUARDS_PER_SAMPLE)

    def calibrate(self, elapsed_ns: int, messages: int) -> None:
        """Choose K from the cost of a sample and of a message, unless it was given."""
        self.calibrated = True
        if self.soak.sample_every is None:
            t0 = time.perf_counter_ns()
            for _ in range(5):
                self.rss.read()
                if not self.heap.unavailable:
                    self.heap.read()
            sample_ns = (time.perf_counter_ns() - t0) / 5
            per_message = max(1.0, elapsed_ns / max(1, messages))
            every = math.ceil(sample_ns / (TARGET_SHARE * per_message))
            self.every = min(1 << max(0, math.ceil(math.log2(max(1, every)))), self._most())
        self.guard_every = self._guard_interval()

    def _most(self) -> int:
        """The largest K that still gives a run of known length MIN_SAMPLES samples."""
        if self.soak.messages is None:
            return 1 << 40
        return 1 << max(0, math.floor(math.log2(max(1, self.soak.messages // MIN_SAMPLES))))

    def _hold_cost(self, sent: int) -> None:
        """Double K while a typical sample costs more than its share of the messages between
        two samples: its real cost (pymalloc's pool headers read cold, the machine's load)
        shows only once the loop runs. The median, not the total: a sample the scheduler
        interrupts for a time slice (4-8 ms on this busy machine) would double K for a cost
        the loop pays as well."""
        if self.soak.sample_every is not None or self.every * 2 > self._most():
            return
        per_message = (time.perf_counter_ns() - self.started - self.sampling_ns) / max(1, sent)
        if self.median_cost > TARGET_SHARE * self.every * per_message:
            self.every *= 2
            self.guard_every = self._guard_interval()

    def checkpoint(self, sent: int) -> bool:
        """At a multiple of the guard interval: sample, guard, report; True to stop."""
        if sent % self.every == 0:
            self.sample(sent)
            self._hold_cost(sent)
            if self.progress is not None:
                self.progress(sent)
        limit = self.soak.until_rss_bytes
        if limit is not None and (rss := self.rss.read()) >= limit:
            self.sample(sent)
            self.stopped_at = (sent, rss)
            self.stop_reason = (
                f"--until rss:{format_quantity(limit, Unit.BYTES)}: RSS reached "
                f"{format_quantity(rss, Unit.BYTES)} at message {sent:,}"
            )
            return True
        if self.soak.messages is not None and sent >= self.soak.messages:
            return True
        return self.deadline is not None and time.perf_counter_ns() >= self.deadline


class Counts:
    """What the loop handled: messages sent, routed, their payload bytes, errors."""

    def __init__(self) -> None:
        self.sent = self.routed = self.payload_bytes = 0
        self.tally = _Tally()


def _drive(
    config: ReplayConfig,
    frames: Iterator[tuple[str, bytes, int]],
    loop: SoakLoop,
    counts: Counts,
) -> None:
    """The replay loop: only the handler, the session model and a counter run per message."""
    handler = handler_for(create(config.backend, routing=config.routing_spec), config.keep)
    if loop.progress is not None:
        loop.progress(0)  # the first report: the backend is constructed
    admit = SessionModel(config.users, config.keep, config.in_flight).admit
    check_type, tally = config.keep != "document", counts.tally
    gc.collect()
    fill_dict_free_lists()
    reset_peak()
    loop.started = time.perf_counter_ns()
    loop.sample(0)
    next_check, sent, soak_messages = loop.first_checkpoint(), 0, loop.soak.messages
    for user_id, payload, intended in frames:
        if intended:
            wait_until(intended)
        try:
            handled = handler(payload)
            if check_type and type(handled) is not tuple:
                tally.add(sent, CONTRACT_VIOLATION, wrong_type(handled))
            else:
                counts.routed += 1
        except ParseError as exc:
            handled = None
            tally.add(sent, exc.category.value, exc.detail)
        except Exception as exc:
            handled = None
            tally.add(sent, UNCLASSIFIED, f"{type(exc).__name__}: {exc}")
        admit(user_id, handled)
        counts.payload_bytes += len(payload)
        sent += 1
        if sent >= next_check:
            if not loop.calibrated:
                loop.calibrate(time.perf_counter_ns() - loop.started, sent)
            if loop.checkpoint(sent):
                break
            next_check = (sent // loop.guard_every + 1) * loop.guard_every
            if soak_messages is not None:
                next_check = min(next_check, soak_messages)
    counts.sent = sent
    if loop.samples.last_message != sent:
        # the last sample while the backend and the sessions are still alive: taken after
        # they were freed, it read a leak's whole chain as gone (-480 KiB at message 30,000
        # of a 16 B-a-message leak, its slope fitted 6 % low)
        loop.sample(sent)


def run_soak_pass(config: ReplayConfig, progress: Progress | None = None) -> RunResult:
    soak = config.soak
    if soak is None:
        raise ConfigError("soak", "the soak pass needs a soak configuration")
    info = resolve(config.backend)
    path = Path(config.recording)
    users, frames_per_loop = recording_users(path), count_frames(path)
    with open_recording(path, on_corrupt="skip") as reader:
        scenario = str(reader.header.metadata.get("scenario", "") or "")
    shard = Shard.parse(config.shard) if config.shard else None
    plan = None
    if shard is not None:  # the sessions of this shard, each loop (the loop is the window)
        with open_recording(path, on_corrupt="skip") as reader:
            plan = plan_of(reader, shard, 0, None, config.pace)
        plan.start_at_ns = parse_start_at(config.start_at) if config.start_at else None
    pacer = Pacer.parse(config.pace if plan is None else plan.pace)
    loop, counts, loops = SoakLoop(soak, progress), Counts(), [0]
    if plan is not None:
        plan.started_ns = wait_for_start(plan.start_at_ns)
    pacer.start()
    if plan is not None:
        align(pacer, plan)
    with GcProbe() as gc_probe:
        _drive(config, looped_frames(path, pacer, loops, shard), loop, counts)
        loop_ns = time.perf_counter_ns() - loop.started
    sent = counts.sent
    loop.rss.close()
    rows = loop.samples.rows()
    return RunResult(
        **run_identity(info, config),
        recording=RecordingInfo(
            path=config.recording,
            messages_measured=sent,
            payload_bytes_measured=counts.payload_bytes,
            users=users,
            scenario=scenario,
            frames_in_recording=frames_per_loop,
        ),
        messages=sent,
        errors=dict(counts.tally.counts),
        error_samples=counts.tally.samples,
        stopped_early=loop.stop_reason,
        duration_ns=loop_ns,
        throughput_per_s=sent / (loop_ns / 1e9) if loop_ns else 0.0,
        gc=gc_probe.summary(sent),
        rss=RssSummary(
            start_bytes=rows[0][2],
            end_bytes=rows[-1][2],
            peak_bytes=peak_rss(),
            growth_per_message_bytes=None,
            growth_reason="a soak judges growth by its interval: see soak.rss and soak.heap",
        ),  # its samples are the soak's
        routed_count=counts.routed,
        shard=plan,
        soak=SoakSummary(
            messages=sent,
            warmup_messages=soak.warmup_messages(sent),
            loops=loops[0],
            recording_frames=frames_per_loop,
            sample_every=loop.every,
            samples=rows,
            heap_counter="" if loop.heap.unavailable else HEAP_COUNTER,
            heap_unavailable=loop.heap.unavailable,
            sampling_ns=loop.sampling_ns,
            loop_ns=loop_ns,
            sampling_share=loop.sampling_ns / loop_ns if loop_ns else 0.0,
            sample_median_ns=loop.median_cost,
            typical_sampling_share=loop.median_cost * loop.taken / loop_ns if loop_ns else 0.0,
            stop_reason=loop.stop_reason,
            stopped_at_message=loop.stopped_at[0] if loop.stopped_at else None,
            stopped_at_rss_bytes=loop.stopped_at[1] if loop.stopped_at else None,
        ),
    )
