"""Typed, versioned run results: what replay writes and compare, report and gate read.

Every figure is an integer in base units (nanoseconds, bytes) unless its name says
otherwise. A result file holds one `RunResult` or one `CompareResult`, told apart by `kind`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import msgspec

from treasure.errors import ConfigError, ResultError, TreasureError
from treasure.files import write_bytes
from treasure.pacing import Pacer
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

SCHEMA_VERSION = 1


class Distribution(msgspec.Struct, kw_only=True):
    """A summary of one figure over many messages."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    min: float = 0.0


class LatencySummary(msgspec.Struct, kw_only=True):
    """Per-message latency in ns. `corrected` counts from each message's intended send time
    (coordinated omission); `uncorrected` from when it was actually handed to the backend."""

    uncorrected: Distribution
    corrected: Distribution | None = None
    # [percentile, value_ns] pairs for percentile plots
    percentile_curve: list[tuple[float, int]] = []
    corrected_curve: list[tuple[float, int]] = []
    # [upper_bound_ns, count] buckets for histograms
    histogram: list[tuple[int, int]] = []
    # medians of consecutive blocks of `block_size` messages: the repeated samples that
    # regression checks bootstrap over
    block_size: int = 0
    block_medians_ns: list[int] = []


class GcSummary(msgspec.Struct, kw_only=True):
    collections: int
    by_generation: list[int]
    collections_per_1k: float
    pause_total_ns: int
    pause_p99_ns: int
    pause_max_ns: int
    pauses_ns: list[int] = []  # the slowest pauses, for plots (bounded)


class RssSummary(msgspec.Struct, kw_only=True):
    start_bytes: int
    end_bytes: int
    peak_bytes: int  # peak RSS of the pass process (VmHWM)
    # the backend's: the process's least-squares slope after warm-up less the harness's own
    # (None: not measured, growth_reason says why, e.g. too few samples in a short run)
    growth_per_message_bytes: float | None
    growth_reason: str = ""
    process_growth_per_message_bytes: float | None = None  # the whole process's slope
    harness_growth_per_message_bytes: float | None = None  # the replay loop's own, measured
    samples: list[tuple[int, int]] = []  # [message_index, rss_bytes]


class HeapSummary(msgspec.Struct, kw_only=True):
    """Heap per message from the memray pass (native allocations included)."""

    measurable: bool
    reason: str = ""  # why not measurable, when it is not
    traced_messages: int = 0
    traced_selection: str = ""  # which messages were traced, in words
    trace_method: str = ""  # "every message" or "seeded random sample"
    trace_seed: int | None = None  # the random sample's seed (None: every message)
    allocated_bytes: Distribution | None = None
    allocations: Distribution | None = None
    peak_bytes: Distribution | None = None
    retained_bytes: Distribution | None = None
    native_allocated_bytes: Distribution | None = None
    native_retained_bytes: Distribution | None = None  # native share of retained_bytes
    # of allocated_bytes, what threads besides the replay loop's allocated during the message
    other_thread_bytes: Distribution | None = None
    # the figures hold no frame objects of the tracer's profile function (else why not)
    profiler_excluded: bool = False
    profiler_note: str = ""
    # true when some of the backend's heap may be missing from the figures, with the reason
    partial: bool = False
    partial_reason: str = ""
    amplification: Distribution | None = None  # peak_bytes / payload bytes
    peak_heap_at_users_bytes: int | None = None  # run peak with the session model's state
    users: int = 0
    timeline: list[tuple[int, int]] = []  # [message_index, live heap bytes]
    capture_bytes: int = 0
    capture_records: int = 0  # allocation records read from the capture (traced or not)
    pass_seconds: float = 0.0  # the whole pass: start-up, tracked loop, reading, reports
    tracked_seconds: float = 0.0  # the replay loop under the tracker alone (warm-up included)
    tracked_messages: int = 0  # measured messages that went through the tracked loop
    artefacts: dict[str, str] = {}  # name -> path (memray capture, flamegraph HTML)


class CpuSummary(msgspec.Struct, kw_only=True):
    """CPU profile from the py-spy pass."""

    profiled: bool
    reason: str = ""
    samples: int = 0
    backend_share: float = 0.0  # fraction of samples inside the backend
    # 95 % Wilson score interval of backend_share over loop_samples
    share_interval: tuple[float, float] | None = None
    # the same profiled run's own clocks: time inside backend calls / the loop's duration
    clock_share: float | None = None
    rate_hz: int = 0
    pass_seconds: float = 0.0
    timing_pass_seconds: float = 0.0
    artefacts: dict[str, str] = {}
    native: bool = False  # native (C/Rust) frames sampled too (py-spy --native)
    loop_samples: int = 0  # samples inside the replay loop: backend_share's denominator
    backend_samples: int = 0  # loop samples with a backend frame on the stack
    sample_errors: int = 0  # samples py-spy failed to take
    loop_ns: int = 0  # the replay loop's duration under py-spy (duration_ns: without)
    # [function (file), loop samples where it was the innermost frame, inside the backend]
    hot_functions: list[tuple[str, int, bool]] = []


class ErrorSample(msgspec.Struct, kw_only=True):
    frame_index: int
    category: str
    message: str


Keep = Literal["nothing", "record", "document"]
DEFAULT_WARMUP = 50
DEFAULT_HEAP_MESSAGES = 2000
DEFAULT_CPU_RATE_HZ = 100
DEFAULT_START_TIMEOUT_S = 120.0


TRANSPORTS = ("inproc", "unix", "tcp", "http")


class ReplayConfig(msgspec.Struct, kw_only=True):
    """How a replay is run, every pass included: recorded whole in each result, it is
    enough to run it again (`treasure replay --rerun RESULT.json`). The defaults and the
    checks below are the only ones: the command line and the library both build this."""

    backend: str  # a registered name or `module:Class`; "" in a comparison's template
    recording: str
    limit: int | None = None  # measure at most this many messages
    warmup: int = DEFAULT_WARMUP  # messages sent first and not measured
    pace: str = "max"  # max | original | original:K | rate:N/s
    users: int = 0  # users whose state the session model keeps; 0: every user
    keep: Keep = "nothing"  # what the session model keeps per user
    in_flight: int = 1  # messages whose results stay referenced at once
    fail_fast: bool = False  # stop at the first malformed message
    heap: bool = False  # a heap pass under memray
    heap_messages: int = DEFAULT_HEAP_MESSAGES  # messages the heap pass traces
    cpu: bool = False  # a CPU pass under py-spy
    cpu_rate_hz: int = DEFAULT_CPU_RATE_HZ  # py-spy samples per second
    pass_timeout_s: float | None = None  # a pass still running after this is killed
    start_timeout_s: float | None = DEFAULT_START_TIMEOUT_S  # killed if its backend has not
    # started by then (a plugin hanging at import)
    artefacts: str = ""  # where captures and profiles go; "": beside the result file
    # A live service instead of the backend in this process (docs/target-protocol.md):
    # `transport` serves `backend` with `treasure serve` on a socket of that kind (a
    # comparison's template may list several, comma-separated); `target` is the address
    # of a router already there or started by `spawn`.
    transport: str = "inproc"  # inproc | unix | tcp | http
    target: str = ""  # unix:PATH | tcp:HOST:PORT | http://HOST:PORT/PATH
    spawn: str = ""  # the command that starts the target; stopped at the end
    target_pid: int | None = None  # a running target to sample (RSS, CPU)
    connections: int = 1  # connections to the target, messages spread round-robin
    framing: Literal["length", "lines"] = "length"  # on unix/tcp: length prefixes or JSON lines
    reply_timeout_s: float = 5.0  # a target silent this long with messages pending has failed
    # The routing spec (docs/routing.md), `PATH[:KIND],...`; "" is the default spec. Stored
    # spelled out, so two results routed alike compare equal.
    routing: str = ""

    def __post_init__(self) -> None:
        try:
            self.routing = str(RoutingSpec.parse(self.routing) if self.routing else DEFAULT_ROUTING)
        except ValueError as exc:
            raise ConfigError("routing", str(exc)) from None
        _check_at_least(self, "limit", 1, optional=True)
        _check_at_least(self, "warmup", 0)
        _check_at_least(self, "users", 0)
        _check_at_least(self, "in_flight", 1)
        _check_at_least(self, "heap_messages", 1)
        _check_at_least(self, "cpu_rate_hz", 1)
        if self.keep not in ("nothing", "record", "document"):
            raise ConfigError("keep", f"{self.keep!r} is not one of nothing, record, document")
        for name in ("pass_timeout_s", "start_timeout_s"):
            seconds = getattr(self, name)
            if seconds is not None and not seconds > 0:
                raise ConfigError(name, f"{seconds!r} is not above 0 s")
        _check_at_least(self, "connections", 1)
        if self.framing not in ("length", "lines"):
            raise ConfigError("framing", f"{self.framing!r} is not one of length, lines")
        transports = self.transport.split(",")
        if not transports or any(t not in TRANSPORTS for t in transports):
            raise ConfigError("transport", f"{self.transport!r}: use {', '.join(TRANSPORTS)}")
        if self.served:
            return  # ramps and steps are a target's paces: its schedule checks them
        try:
            Pacer.parse(self.pace)
        except TreasureError as exc:
            raise ConfigError("pace", str(exc)) from exc

    @property
    def routing_spec(self) -> RoutingSpec:
        return RoutingSpec.parse(self.routing)

    @property
    def served(self) -> bool:
        """Whether messages go to a live service rather than the backend in process."""
        return bool(self.target) or self.transport != "inproc"


def _check_at_least(config: ReplayConfig, name: str, low: int, optional: bool = False) -> None:
    value = getattr(config, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(name, f"{value!r} is not a whole number >= {low}")


class RecordingInfo(msgspec.Struct, kw_only=True):
    path: str
    frames: int
    payload_bytes: int
    users: int
    scenario: str = ""
    # frames the recording holds (a v2 trailer's verified count); None when the run did
    # not read it to its end (--limit) or it ended damaged or incomplete
    recorded_frames: int | None = None


class HostInfo(msgspec.Struct, kw_only=True):
    python: str
    platform: str
    cpus: int
    treasure: str


class TargetProcess(msgspec.Struct, kw_only=True):
    """The target's process over the run, from /proc/PID (spawned or attached)."""

    pid: int
    command: str = ""  # the --spawn command line; empty when attached by --target-pid
    rss_start_bytes: int = 0
    rss_end_bytes: int = 0
    rss_peak_bytes: int = 0  # VmHWM read before the target was stopped
    # least-squares slope of RSS over replies answered, after the first 10 % of samples
    rss_growth_per_request_bytes: float = 0.0
    cpu_seconds: float = 0.0  # user + system over the run
    cpu_share: float = 0.0  # cpu_seconds / wall seconds: 1.0 is one core busy
    exit_code: int | None = None  # when it ended during the run, or when stopped (spawned)
    samples: list[tuple[int, int, int]] = []  # [ms since start, replies answered, rss bytes]


class TargetFigures(msgspec.Struct, kw_only=True):
    """One run against a target: every scheduled message is sent, unsent, or refused, and
    every sent one is answered (routed or an error), timed out, or lost with its connection."""

    target: str
    transport: str
    framing: str
    sender: str  # "native" (the Rust sender) or "python"
    connections: int
    pace: str
    scheduled: int
    sent: int = 0
    answered: int = 0
    routed: int = 0
    errors: dict[str, int] = {}  # reply category (and "protocol") -> count
    timeouts: int = 0  # sent, unanswered when the reply timeout passed
    lost: int = 0  # sent, unanswered when the connection closed or broke
    unsent: int = 0  # scheduled, never sent: the run ended or its connection was gone
    refused_connections: int = 0
    late_sends: int = 0  # sent more than late_threshold_ns after their intended time
    late_threshold_ns: int = 1_000_000
    duration_ns: int = 0
    sent_per_s: float = 0.0
    failure: str = ""  # why the run ended early; empty when it ran to the end
    # from the intended send time (coordinated omission) and from the actual send
    latency_corrected: Distribution | None = None
    latency_uncorrected: Distribution | None = None
    schedule_error: Distribution | None = None  # actual - intended send time
    corrected_curve: list[tuple[float, int]] = []
    uncorrected_curve: list[tuple[float, int]] = []
    process: TargetProcess | None = None
    artefacts: dict[str, str] = {}


class RunResult(msgspec.Struct, kw_only=True, tag_field="kind", tag="run"):
    schema_version: int = SCHEMA_VERSION
    created_at: str
    backend: str
    backend_kind: str
    library: str
    library_version: str
    config: ReplayConfig
    recording: RecordingInfo
    host: HostInfo
    messages: int  # measured messages (after warm-up), errors included
    errors: dict[str, int] = {}  # category -> count
    error_samples: list[ErrorSample] = []
    stopped_early: str = ""  # why the run stopped before the end, if it did
    duration_ns: int = 0
    throughput_per_s: float = 0.0
    payload_size: Distribution | None = None
    latency: LatencySummary | None = None
    gc: GcSummary | None = None
    rss: RssSummary | None = None
    heap: HeapSummary | None = None
    cpu: CpuSummary | None = None
    target: TargetFigures | None = None  # a run against a live service
    artefacts: dict[str, str] = {}
    # Which messages routed (no error): their count and a SHA-256 of their frame indexes
    # (8 bytes little-endian each, in order). Backends with equal digests routed the same
    # set; a speed ratio between runs whose sets differ is not a speed-up.
    routed_count: int = 0
    routed_digest: str = ""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class CompareResult(msgspec.Struct, kw_only=True, tag_field="kind", tag="compare"):
    schema_version: int = SCHEMA_VERSION
    created_at: str
    recording: RecordingInfo
    baseline: str  # the backend the ratios are against, as its runs name it
    baseline_requested: str = ""  # --baseline as given (a name or module:Class)
    baseline_note: str = ""  # why `baseline` differs from what was asked for, if it does
    runs: list[RunResult]
    failed: dict[str, str] = {}  # backend -> why its pass failed
    backends: list[str] = []  # as requested, in order: with `config`, enough to rerun it
    config: ReplayConfig | None = None  # the options every backend ran with (backend "")
    complete: bool = False  # every backend was run; False in the copies saved along the way


Result = RunResult | CompareResult


def save(result: Result, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file, never half of one."""
    write_bytes(path, msgspec.json.format(msgspec.json.encode(result), indent=2))


def to_json(result: Result) -> str:
    return msgspec.json.format(msgspec.json.encode(result), indent=2).decode()


def loads(data: bytes, source: str = "<bytes>") -> Result:
    try:
        header = msgspec.json.decode(data, type=dict[str, object])
    except msgspec.DecodeError as exc:
        raise ResultError(f"{source}: not a treasure result ({exc})") from exc
    except RecursionError:
        raise ResultError(f"{source}: not a treasure result (nested too deeply)") from None
    found = header.get("schema_version")
    if found is None or header.get("kind") not in ("run", "compare"):
        raise ResultError(
            f"{source}: not a treasure result (no schema_version and kind run or compare): "
            "pass a file written by `treasure replay -o` or `treasure compare -o`"
        )
    if found != SCHEMA_VERSION:
        raise ResultError(
            f"{source}: result schema version {found!r}, this treasure reads {SCHEMA_VERSION}"
        )
    try:
        result: Result = msgspec.json.decode(data, type=Result)
        return result
    except msgspec.ValidationError as exc:
        raise ResultError(f"{source}: invalid result: {exc}") from exc


def load(path: Path) -> Result:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultError(f"cannot read result {path}: {exc.strerror}") from exc
    return loads(data, str(path))


def runs_of(result: Result) -> list[RunResult]:
    return list(result.runs) if isinstance(result, CompareResult) else [result]


def json_schema() -> dict[str, object]:
    """JSON Schema of a result file, generated from the types above."""
    schema: dict[str, object] = msgspec.json.schema(Result)
    return schema


def documented_schema() -> dict[str, object]:
    """The schema as docs/result-schema.json holds it: `make schema` writes it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "treasure result",
        "description": (
            f"A result file of schema_version {SCHEMA_VERSION}, written by `treasure replay -o` "
            "(kind: run) or `treasure compare -o` (kind: compare). Figures are integers in ns "
            "or bytes unless a name says otherwise. Generated from treasure.results."
        ),
        **json_schema(),
    }


# Prose keys: their text comes from docstrings and the schema generator's formatting of
# them, which changes between releases (msgspec 0.23 strips docstring indentation).
_PROSE_KEYS = frozenset({"description", "title", "$comment", "examples"})


def schema_shape(schema: object) -> object:
    """What a schema says about the data (types, fields, required), without its prose."""
    if isinstance(schema, dict):
        return {
            key: schema_shape(value)
            for key, value in schema.items()
            if key not in _PROSE_KEYS or not isinstance(value, str)
        }
    if isinstance(schema, list):
        return [schema_shape(item) for item in schema]
    return schema


def schema_text() -> str:
    """docs/result-schema.json's text for the installed dependencies."""
    return json.dumps(documented_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
