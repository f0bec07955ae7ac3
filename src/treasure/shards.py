"""The shard plan: which frames shard i of N replays, so that N machines share a recording.

Shard i replays the frames of the users (sessions) whose id hashes to i: a user's messages
stay together and in order, and every machine agrees on the split because the hash is a
fixed one (BLAKE2b, not Python's per-process salted `hash`). The N shards together replay
every frame of the recording exactly once. Warm-up and `--limit` keep their meaning for
the whole run: frames before index `warmup` are warm-up in whichever shard they fall,
and `--limit L` splits the recording's first `warmup + L` frames, so the N shards measure
together what one unsharded run measures. A constant `rate:R/s` pace becomes R/N per
shard, and shard i starts i/R after the others' shared start: together the N shards send
on the unsharded schedule, one message every 1/R, never N at once. `original` keeps each
frame's recorded time measured from the window's first measured frame (not the shard's own
first), so the shards' sends interleave exactly as the recording's do.

This module is pure (frames in, plan out): the replay loop, a soak or any other driver
opens the recording and passes its frames through `select`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypeVar

import msgspec

from treasure.errors import ConfigError
from treasure.pacing import Pacer

SHARD_KEY = "user_id"
SHARD_HASH = "blake2b-64"  # first 8 bytes of BLAKE2b of the UTF-8 id, big-endian, mod N
JOB_INDEX_VARIABLE = "JOB_COMPLETION_INDEX"  # set by a Kubernetes Indexed Job in each pod
_SHARD = re.compile(r"^(\d+|auto)/(\d+)$")
_RATE = re.compile(r"^rate:(\d+(?:\.\d+)?)(/s)?$")
_SHARDED_TARGET_PACE = re.compile(r"^(max|original(:\d+(\.\d+)?)?|rate:\d+(\.\d+)?(/s)?)$")
_SCHEDULER = re.compile(r"^(tcp|tls)://[^\s/:]+(:\d+)?$")
SPIN_NS = 50_000_000  # sleep until this close to the shared start, then spin (sleep overshoots)
OWNED_CACHE = 1 << 16  # users whose shard is remembered while selecting


class FrameLike(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def user_id(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def timestamp_ns(self) -> int: ...


F = TypeVar("F", bound=FrameLike)


def shard_of(user_id: str, count: int) -> int:
    """The shard (0 ≤ shard < count) a user's frames belong to, the same on every machine."""
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0-based)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, environ: Mapping[str, str] | None = None) -> Shard:
        """`i/N`, or `auto/N` with i from $JOB_COMPLETION_INDEX; ValueError says why not."""
        match = _SHARD.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not i/N (shard i of N, 0 ≤ i < N) or auto/N")
        count = int(match.group(2))
        if match.group(1) == "auto":
            index = _job_index(os.environ if environ is None else environ, text)
        else:
            index = int(match.group(1))
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"{text!r}: the shard must be 0 ≤ i < N, with N ≥ 1")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, user_id: str) -> bool:
        return self.count == 1 or shard_of(user_id, self.count) == self.index

    def pace(self, pace: str) -> str:
        """This shard's share of a whole run's pace: `rate:R/s` becomes R/N."""
        match = _RATE.match(pace)
        if match is None or self.count == 1:
            return pace
        return f"rate:{float(match.group(1)) / self.count:g}/s"

    def offset_ns(self, pace: str) -> int:
        """When, after the shared start, this shard sends its first message: i/R under the
        whole run's `rate:R/s`, so the N shards' sends interleave one every 1/R."""
        match = _RATE.match(pace)
        if match is None or self.count == 1 or float(match.group(1)) <= 0:
            return 0
        return round(self.index * 1e9 / float(match.group(1)))


def _job_index(environ: Mapping[str, str], text: str) -> int:
    raw = environ.get(JOB_INDEX_VARIABLE)
    if raw is None:
        raise ValueError(
            f"{text!r} takes i from ${JOB_INDEX_VARIABLE}, which is not set "
            "(a Kubernetes Indexed Job sets it in each pod): give i/N instead"
        )
    if not raw.strip().isdigit():
        raise ValueError(f"${JOB_INDEX_VARIABLE} is {raw!r}, not a whole number")
    return int(raw)


def window_end(warmup: int, limit: int | None) -> int | None:
    """The first frame index past the frames a run (all its shards) replays."""
    return None if limit is None else warmup + limit


def select(frames: Iterable[F], shard: Shard, end: int | None = None) -> Iterator[F]:
    """The frames shard `shard` replays, in recording order, up to frame index `end`."""
    # Verdicts are cached (hashing costs ~1 µs a frame), in a bounded cache: the loop's
    # memory stays flat past it, and the harness's own RSS growth, which the backend's
    # figure excludes, is measured through this same selection.
    owned: dict[str, bool] = {}
    for frame in frames:
        if end is not None and frame.index >= end:
            return
        mine = owned.get(frame.user_id)
        if mine is None:
            if len(owned) >= OWNED_CACHE:
                owned.clear()
            mine = owned[frame.user_id] = shard.owns(frame.user_id)
        if mine:
            yield frame


class ShardPlan(msgspec.Struct, kw_only=True):
    """What a shard replayed, recorded in its result: enough for `treasure merge` to check
    that N results are the N shards of one plan over one recording."""

    index: int
    count: int
    key: str = SHARD_KEY  # what is hashed
    hash: str = SHARD_HASH
    frames: int = 0  # frames this shard replays, warm-up included
    users: int = 0  # distinct users among them
    measured_frames: int = 0  # of those, past the warm-up (what it measures at most)
    recording_frames: int = 0  # frames of the run's window, every shard's
    # BLAKE2b of every frame of the window (index, user, payload): the same recording
    # content on every shard, wherever its file lives
    recording_digest: str = ""
    pace: str = ""  # this shard's own pace (rate:R/N/s of the run's rate:R/s)
    # when its first send is due after the shared start: i/R under rate:R/s (staggered)
    offset_ns: int = 0
    # recorded time of the window's first measured frame, every shard's: under `original`
    # each shard's send times count from it (None: no measured frame)
    origin_timestamp_ns: int | None = None
    start_at_ns: int | None = None  # the shared start broadcast to every shard (epoch ns)
    started_ns: int = 0  # when this shard's timed loop began (epoch ns)
    # [payload bytes, measured messages]: the sizes, exactly, so merged sizes stay exact
    payload_sizes: list[tuple[int, int]] = []

    @property
    def lateness_ns(self) -> int | None:
        """How long after the shared start this shard began (None: no shared start)."""
        return None if self.start_at_ns is None else self.started_ns - self.start_at_ns


def plan_of(
    frames: Iterable[FrameLike], shard: Shard, warmup: int, end: int | None, pace: str
) -> ShardPlan:
    """Count the shard's part of the recording (one pass over its frames, before a run)."""
    digest = hashlib.blake2b(digest_size=16)
    users: set[str] = set()
    plan = ShardPlan(
        index=shard.index, count=shard.count, pace=shard.pace(pace), offset_ns=shard.offset_ns(pace)
    )
    for frame in frames:
        if end is not None and frame.index >= end:
            break
        plan.recording_frames += 1
        if plan.origin_timestamp_ns is None and frame.index >= warmup:
            plan.origin_timestamp_ns = frame.timestamp_ns
        user = frame.user_id.encode("utf-8", "surrogatepass")
        digest.update(b"%d\0%d\0%s%d\0" % (frame.index, len(user), user, len(frame.payload)))
        digest.update(frame.payload)
        if shard.owns(frame.user_id):
            plan.frames += 1
            plan.measured_frames += frame.index >= warmup
            users.add(frame.user_id)
    plan.users = len(users)
    plan.recording_digest = digest.hexdigest()
    return plan


def align(pacer: Pacer, plan: ShardPlan) -> Pacer:
    """A started pacer moved onto the whole run's schedule: shifted by the shard's offset,
    and under `original` counting from the window's first measured frame."""
    pacer.start_ns += plan.offset_ns
    if pacer.mode == "original" and plan.origin_timestamp_ns is not None:
        pacer.first_timestamp_ns = plan.origin_timestamp_ns
    return pacer


def wait_for_start(start_at_ns: int | None) -> int:
    """Wait for the shared start (wall clock, so that machines agree), then say when this
    shard began: late shards begin at once, and their lateness is in the plan."""
    if start_at_ns is not None:
        remaining = start_at_ns - time.time_ns()
        if remaining > SPIN_NS:
            time.sleep((remaining - SPIN_NS) / 1e9)
        while time.time_ns() < start_at_ns:
            pass
    return time.time_ns()


def parse_start_at(text: str) -> int:
    """`--start-at`: epoch seconds (`1767250800.5`) or ISO 8601 (`2026-01-01T07:00:00Z`,
    UTC when it names no offset), as epoch ns; ValueError says why not."""
    raw = text.strip()
    try:
        return int(Decimal(raw) * 1_000_000_000)
    except (InvalidOperation, ValueError, OverflowError):  # not a finite number
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither epoch seconds nor an ISO 8601 time (2026-01-01T07:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (epoch.days * 86_400 + epoch.seconds) * 1_000_000_000 + epoch.microseconds * 1000


def check_sharding(
    shard: str,
    shards: int,
    cluster: str,
    served: bool,
    *,
    spawn: str = "",
    start_at: str = "",
    pace: str = "max",
) -> str:
    """ReplayConfig's checks of its sharding fields; `shard` as stored (auto resolved)."""
    if cluster and not shards:
        raise ConfigError("cluster", "a cluster runs shards: give --shards N with it")
    if cluster and not _SCHEDULER.match(cluster):
        raise ConfigError("cluster", f"{cluster!r} is not a scheduler address tcp://HOST:PORT")
    if shards and spawn:
        raise ConfigError(
            "spawn", "--shards N with --spawn would start N targets at one address: start "
            "the target once and give its --target (or run each --shard i/N on its own machine)"
        )  # fmt: skip
    if (shard or shards) and served and not _SHARDED_TARGET_PACE.match(pace):
        raise ConfigError(
            "pace", f"{pace!r} does not split between shards: a sharded run against a target "
            "paces at max, original, original:K or rate:R/s"
        )  # fmt: skip
    if start_at:
        if not shard:
            raise ConfigError(
                "start_at", "a start time is shared by shards: give it with --shard i/N "
                "(--shards N starts its shards together itself)"
            )  # fmt: skip
        try:
            parse_start_at(start_at)
        except ValueError as exc:
            raise ConfigError("start_at", str(exc)) from None
    if not shard:
        return ""
    if shards:
        raise ConfigError("shards", "--shards N runs every shard itself: not with --shard i/N")
    try:
        return str(Shard.parse(shard))
    except ValueError as exc:
        raise ConfigError("shard", str(exc)) from None


class ShardFigures(msgspec.Struct, kw_only=True):
    """One shard's own figures in a merged result. Process figures (RSS, GC, a target's
    process) belong to one machine each: side by side here, never averaged."""

    index: int
    messages: int
    errors: int = 0
    frames: int = 0
    users: int = 0
    duration_ns: int = 0
    throughput_per_s: float = 0.0
    started_ns: int = 0
    lateness_ns: int | None = None  # after the shared start (None: no shared start)
    host: str = ""  # the machine it ran on (platform string)
    rss_peak_bytes: int | None = None
    rss_growth_per_message_bytes: float | None = None
    gc_collections: int | None = None
    gc_pause_max_ns: int | None = None
    target_rss_peak_bytes: int | None = None
    target_rss_growth_per_request_bytes: float | None = None
    source: str = ""  # the shard's result file, when merged from files


class MergedShards(msgspec.Struct, kw_only=True):
    """How a merged result was made: its plan, when its shards began, each one's figures."""

    count: int
    key: str = SHARD_KEY
    hash: str = SHARD_HASH
    recording_digest: str = ""
    start_at_ns: int | None = None
    start_skew_ns: int = 0  # the latest shard's start less the earliest's
    merge_seconds: float = 0.0  # what merging the shard results cost
    runs: list[ShardFigures] = []
