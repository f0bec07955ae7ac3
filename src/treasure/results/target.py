"""What a run against a live service measured: the target's replies and its process."""

from __future__ import annotations

import msgspec

from treasure.results.figures import Distribution
from treasure.results.timeline import TargetTimeline


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
    # `--until rss:SIZE` against the target: the limit, and the sample that passed it
    until_rss_bytes: int | None = None
    stopped_at_request: int | None = None  # replies answered when its RSS passed the limit
    stopped_at_rss_bytes: int | None = None


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
    # the latency HDR histograms themselves (base64 of HdrHistogram.encode()): every bucket,
    # so that `treasure merge` sums a sharded run's exactly
    hdr: str = ""
    corrected_hdr: str = ""
    process: TargetProcess | None = None
    artefacts: dict[str, str] = {}
    timeline: TargetTimeline | None = None  # per second, for the report's plots
