"""The soak's options and figures, as a result file holds them (`RunResult.soak`).

A soak replays a recording for a message count or a duration, looping it with fresh
session ids, samples memory over the run and fits growth per message after its warm-up
(`growth.slope`); `runner.soak` runs it, `passes.soak` is its loop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Literal

import msgspec

from treasure.errors import ConfigError
from treasure.growth.slope import GrowthEstimate, TooFewSamples, Verdict, fit_growth

PAGE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_WARMUP = "10%"
DEFAULT_RESOLUTION_BYTES = 1.0  # the floor of the detection limit, bytes per message
_WARMUP = re.compile(r"^(\d+(?:\.\d+)?)%$|^(\d+)$")

SoakVerdict = Verdict | Literal["stopped"]


class SoakConfig(msgspec.Struct, kw_only=True):
    """How long a soak runs and how it judges growth (`ReplayConfig.soak`)."""

    messages: int | None = None  # messages sent in all, warm-up included
    duration_s: float | None = None  # or: send for this long
    warmup: str = DEFAULT_WARMUP  # the first N messages, or N % of them, are not fitted
    until_rss_bytes: int | None = None  # stop once the measured process's RSS passes this
    resolution_bytes: float = DEFAULT_RESOLUTION_BYTES
    sample_every: int | None = None  # messages between samples; None: chosen for < 1 % cost
    seed: int = 0  # the bootstrap's

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.duration_s is None):
            raise ConfigError("soak", "give one of a message count or a duration")
        if self.messages is not None and self.messages < 2:
            raise ConfigError("messages", f"{self.messages!r} is not a whole number >= 2")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ConfigError("duration", f"{self.duration_s!r} is not above 0 s")
        if _WARMUP.match(self.warmup) is None or self.warmup_fraction >= 1:
            raise ConfigError("warmup", f"{self.warmup!r}: write N messages or N % below 100 %")
        if self.until_rss_bytes is not None and self.until_rss_bytes <= 0:
            raise ConfigError("until", f"{self.until_rss_bytes!r} is not above 0 bytes")
        if not self.resolution_bytes > 0:
            raise ConfigError("resolution", f"{self.resolution_bytes!r} is not above 0 B")
        if self.sample_every is not None and self.sample_every < 1:
            raise ConfigError("sample_every", f"{self.sample_every!r} is not >= 1")

    @property
    def warmup_fraction(self) -> float:
        """The warm-up as a share of the messages sent (0 when given as a count)."""
        return float(self.warmup[:-1]) / 100 if self.warmup.endswith("%") else 0.0

    def warmup_messages(self, sent: int) -> int:
        """Messages of a run of `sent` left out of the fit."""
        if self.warmup.endswith("%"):
            return int(sent * self.warmup_fraction)
        return min(int(self.warmup), sent)


# [message index, ms since the loop started, RSS bytes, pymalloc bytes, malloc bytes,
#  GC collections so far]
Sample = tuple[int, int, int, int, int, int]


class SoakSummary(msgspec.Struct, kw_only=True):
    """What a soak measured over time and the growth it fitted."""

    messages: int  # sent in all, warm-up included
    warmup_messages: int  # not fitted
    loops: int  # times the recording was started (each after the first with fresh ids)
    recording_frames: int  # frames in one pass over the recording
    sample_every: int  # messages between samples in `samples` (doubled when thinned)
    samples: list[Sample] = []
    heap_counter: str = ""  # what the heap series counts
    heap_unavailable: str = ""  # why there is no heap series, when there is none
    sampling_ns: int = 0  # time spent taking samples
    loop_ns: int = 0  # the whole loop, sampling included
    sampling_share: float = 0.0  # sampling_ns / loop_ns: the probe's measured cost
    sample_median_ns: int = 0  # a typical sample's cost (one preempted sample counts fully above)
    typical_sampling_share: float = 0.0  # sample_median_ns × samples taken / loop_ns
    heap: GrowthEstimate | None = None  # pymalloc + malloc bytes over messages
    heap_reason: str = ""  # why heap is None
    rss: GrowthEstimate | None = None
    rss_reason: str = ""
    verdict: SoakVerdict = "can't tell"  # the heap's (else RSS's), or "stopped"
    stop_reason: str = ""  # why the run stopped before its count or duration
    stopped_at_message: int | None = None
    stopped_at_rss_bytes: int | None = None
    target: bool = False  # the series are a live target's (RSS only), not this process's

    @property
    def growth(self) -> GrowthEstimate | None:
        """The series the verdict is read from: the live heap, else RSS."""
        return self.heap if self.heap is not None else self.rss


def heap_bytes(sample: Sample) -> int:
    return sample[3] + sample[4]  # pymalloc + malloc


def rss_bytes(sample: Sample) -> int:
    return sample[2]


def _fitted(
    summary: SoakSummary, series: str, value: Callable[[Sample], int], floor: float, seed: int
) -> tuple[GrowthEstimate | None, str]:
    """One series fitted after the warm-up, or None and why not."""
    points = [(s[0], value(s)) for s in summary.samples if s[0] >= summary.warmup_messages]
    try:
        return fit_growth(series, points, floor, seed=seed), ""
    except TooFewSamples as exc:
        return None, f"{exc}: soak longer (--messages, --duration) or sample more often"


def judge(summary: SoakSummary, config: SoakConfig) -> SoakSummary:
    """Fit heap and RSS growth per message after the warm-up and read the verdict.

    RSS moves by whole pages: less than one page over the fitted span cannot be seen, so its
    floor is at least a page ÷ the span's messages."""
    if not summary.heap_unavailable:
        floor = config.resolution_bytes
        summary.heap, summary.heap_reason = _fitted(summary, "heap", heap_bytes, floor, config.seed)
    else:
        summary.heap_reason = summary.heap_unavailable
    span = max(1, summary.messages - summary.warmup_messages)
    rss_floor = max(config.resolution_bytes, PAGE / span)
    summary.rss, summary.rss_reason = _fitted(summary, "rss", rss_bytes, rss_floor, config.seed)
    growth = summary.growth
    if summary.stop_reason:
        summary.verdict = "stopped"
    else:
        summary.verdict = growth.verdict if growth is not None else "can't tell"
    return summary
