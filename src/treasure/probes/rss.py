"""RSS probe: resident set size from a kept-open /proc/self/statm (~1.7 µs a read),
sampled every `every` messages; growth per message is a least-squares slope after
dropping the first 10 % of samples (warm-up: caches, interned strings, arenas)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from treasure.results import RssSummary

PAGE = os.sysconf("SC_PAGE_SIZE")
MAX_SAMPLES = 500


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

    def summary(self) -> RssSummary:
        samples = self.samples
        step = max(1, len(samples) // MAX_SAMPLES)
        return RssSummary(
            start_bytes=samples[0][1] if samples else 0,
            end_bytes=samples[-1][1] if samples else 0,
            peak_bytes=peak_rss(),
            growth_per_message_bytes=slope(samples),
            samples=samples[::step],
        )
