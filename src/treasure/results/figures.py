"""What one pass measured of one backend: distributions and the timing, GC, RSS, heap and
CPU summaries a run holds. Integers are in base units (ns, bytes) unless a name says otherwise."""

from __future__ import annotations

import msgspec

from treasure.disk_budget import CaptureBudget


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
    # the HDR histograms themselves (base64 of HdrHistogram.encode()), kept in shard runs
    # so that `treasure merge` sums them bucket by bucket
    hdr: str = ""
    corrected_hdr: str = ""


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
    capture: CaptureBudget | None = None  # the capture's disk budget, and a stop at it
    peak_heap_at_users_bytes: int | None = None  # run peak with the session model's state
    users: int = 0
    timeline: list[tuple[int, int]] = []  # [message_index, live heap bytes]
    capture_bytes: int = 0
    capture_records: int = 0  # allocation records read from the capture (traced or not)
    capture_reader: str = ""  # "treasure-rs" (native) or "memray" (memray's Python reader)
    capture_reader_note: str = ""  # why memray's reader read the capture, when it did
    analysis_seconds: float = 0.0  # reading the capture and splitting it into messages
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
