"""RSS probe: resident set size from a kept-open /proc/self/statm (~1.7 µs a read),
sampled every `every` messages; growth per message is a least-squares slope after
dropping the first 10 % of samples (warm-up: caches, interned strings, arenas), less the
harness's own growth (`rss_harness`). Fewer than MIN_GROWTH_SAMPLES samples after the drop
(a run under ~2,000 messages) is "not measured": None and the reason, never 0.0."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from treasure.results import RssSummary

PAGE = os.sysconf("SC_PAGE_SIZE")
MAX_SAMPLES = 500
MIN_GROWTH_SAMPLES = 3


def reset_peak() -> None:
    """Start the pass's peak RSS afresh (writing 5 to clear_refs resets VmHWM)."""
    # where not permitted, the peak includes the process's start-up
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def too_few_samples(samples: list[tuple[int, int]], every: int) -> str:
    """Why these samples cannot give a growth, or "" when they can."""
    kept = len({index for index, _ in samples[len(samples) // 10 :]})
    if kept >= MIN_GROWTH_SAMPLES:
        return ""
    return (
        f"too few RSS samples to measure growth ({kept} after warm-up, at least "
        f"{MIN_GROWTH_SAMPLES} needed: one every {every:,} messages): replay more messages"
    )


def slope(samples: list[tuple[int, int]]) -> float:
    kept = samples[len(samples) // 10 :]
    if len(kept) < 2:
        return 0.0
    n = len(kept)
    mean_x = sum(x for x, _ in kept) / n
    mean_y = sum(y for _, y in kept) / n
    var = sum((x - mean_x) ** 2 for x, _ in kept)
    if var == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in kept) / var


class RssSampler:
    def __init__(self, every: int = 1000) -> None:
        self.every = every
        self.samples: list[tuple[int, int]] = []
        self._fd = os.open("/proc/self/statm", os.O_RDONLY)

    def read(self) -> int:
        return int(os.pread(self._fd, 128, 0).split()[1]) * PAGE

    def sample(self, message_index: int) -> None:
        self.samples.append((message_index, self.read()))

    def close(self) -> None:
        os.close(self._fd)

    def summary(self, harness: Callable[[], tuple[float | None, str]] | None = None) -> RssSummary:
        """The figures; `harness()` measures the harness's own growth (or says why it could
        not), asked only when the samples can give a growth at all; None: there is none."""
        samples = self.samples
        step = max(1, len(samples) // MAX_SAMPLES)
        summary = RssSummary(
            start_bytes=samples[0][1] if samples else 0,
            end_bytes=samples[-1][1] if samples else 0,
            peak_bytes=peak_rss(),
            growth_per_message_bytes=None,
            samples=samples[::step],
        )
        summary.growth_reason = too_few_samples(samples, self.every)
        if summary.growth_reason:
            return summary
        process = summary.process_growth_per_message_bytes = slope(samples)
        own, why_not = harness() if harness else (0.0, "")
        summary.harness_growth_per_message_bytes = own
        if own is None:
            summary.growth_reason = f"the harness's own growth is unknown: {why_not}"
        else:
            summary.growth_per_message_bytes = process - own
        return summary
