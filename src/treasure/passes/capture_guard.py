"""Keeps the heap pass's memray capture within its disk budget, and within the disk.

Checked between messages, every `CHECK_EVERY` of them (a stat and a statvfs, ~2 µs, and
their records in the capture). memray grows its file by ~10 % at a time with
posix_fallocate, and stops tracking for good when that fails; so the pass stops when that
next growth would pass the budget (the capture stays within it), or would not fit in the
free space of its file system (the disk never refuses memray); or when the
kernel refused a write past the file-size limit (RLIMIT_FSIZE: SIGXFSZ, caught here, else
it would kill the pass). Any of these stops the pass at that message boundary; what was
traced before it is kept, and marked partial.
"""

from __future__ import annotations

import os
import resource
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Literal

from treasure.disk_budget import BUDGET_STOP, DISK_STOP, CaptureBudget, free_bytes
from treasure.quantities import Unit, format_quantity

CHECK_EVERY = 4  # messages between checks: fewer than one growth of the file between two
GROWTH_SHARE = 0.1  # memray grows its file to 110 % of what it holds and needs
GROWTH_FLOOR = 1024**2  # and by at least this much free space, or the next one may fail


def _size(value: float) -> str:
    return format_quantity(value, Unit.BYTES)


class CaptureGuard:
    """`check()` between messages: False once the pass must stop; `budget` says why."""

    def __init__(self, capture: Path, budget: CaptureBudget) -> None:
        self.capture = capture
        self.budget = budget
        self.refused = False  # the kernel refused a write past the file-size limit
        self._previous: signal._HANDLER = None

    def __enter__(self) -> CaptureGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGXFSZ, self._on_too_large)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGXFSZ, self._previous)

    def _on_too_large(self, signum: int, frame: FrameType | None) -> None:
        self.refused = True

    def check(self) -> bool:
        """Whether the pass may go on; on the first False, `budget` records the stop."""
        if self.budget.stopped:
            return False
        size = self.capture_bytes()
        if size * (1 + GROWTH_SHARE) > self.budget.budget_bytes:  # memray's next growth
            return self._stop(
                BUDGET_STOP,
                f"the capture reached its disk budget ({_size(size)} on disk, its next "
                f"growth would pass {_size(self.budget.budget_bytes)}; "
                f"{self.budget.chosen})",
                size,
            )
        return self.check_disk(size)

    def check_disk(self, size: int | None = None) -> bool:
        """Whether the disk still takes the capture (after the loop too: memray may have
        stopped writing since the last check, and the capture then ends early)."""
        if self.budget.stopped:
            return False
        size = self.capture_bytes() if size is None else size
        if self.refused:
            limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
            return self._stop(
                DISK_STOP,
                f"the file-size limit (RLIMIT_FSIZE, {_size(limit)}) refused the capture at "
                f"{_size(size)}",
                size,
            )
        free = free_bytes(self.capture.parent)
        if free < size * GROWTH_SHARE + GROWTH_FLOOR:
            return self._stop(
                DISK_STOP,
                f"the disk holding the capture is full ({_size(free)} free at "
                f"{_size(size)} of capture)",
                size,
            )
        self.budget.capture_bytes = size
        return True

    def capture_bytes(self) -> int:
        try:
            return os.stat(self.capture).st_size
        except FileNotFoundError:  # not created yet: memray opens it on entry
            return 0

    def _stop(self, stopped: Literal["budget", "disk"], reason: str, size: int) -> bool:
        self.budget.stopped, self.budget.reason, self.budget.capture_bytes = stopped, reason, size
        return False
