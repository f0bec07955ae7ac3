"""GC probe: collections and pause times from `gc.callbacks` (cost within noise)."""

from __future__ import annotations

import gc
import time
from array import array
from typing import Any

from treasure.percentiles import percentile_of
from treasure.results import GcSummary

KEPT_PAUSES = 200


class GcProbe:
    def __init__(self) -> None:
        self.pauses = array("q")
        self.by_generation = [0, 0, 0]
        self._started = 0

    def reset(self) -> None:
        """Forget what warm-up collected."""
        del self.pauses[:]
        self.by_generation = [0, 0, 0]

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter_ns()
        else:
            self.pauses.append(time.perf_counter_ns() - self._started)
            self.by_generation[info["generation"]] += 1

    def __enter__(self) -> GcProbe:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self, messages: int) -> GcSummary:
        ordered = sorted(self.pauses)
        count = len(ordered)
        return GcSummary(
            collections=count,
            by_generation=list(self.by_generation),
            collections_per_1k=1000 * count / messages if messages else 0.0,
            pause_total_ns=sum(ordered),
            pause_p99_ns=percentile_of(ordered, 99) if count else 0,
            pause_max_ns=ordered[-1] if count else 0,
            pauses_ns=ordered[-KEPT_PAUSES:],
        )
