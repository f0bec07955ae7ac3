"""Ground-truth backends for what the heap figures must leave out or take in: the tracer's
own frame objects (many Python calls), a helper thread's allocations, a periodic leak.

Each backend allocates an exactly known number of bytes per message when nothing watches
it; the heap pass must report that, not what a profiler adds around it.
"""

from __future__ import annotations

import sys
import threading
from typing import ClassVar

from tests.groundtruth.native import _GroundTruth

from treasure.parsers import Limits
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

_CALLS = (None,) * 200  # iterated, not ranged: no int objects to allocate


def _leaf(item: object) -> object:
    return item


def _nested(depth: int, size: int) -> bytes:
    # the block is made at the bottom of `depth` Python frames: a tracer's frame objects
    # would sit on top of it and raise the peak, not only the total
    return bytes(size) if depth == 0 else _nested(depth - 1, size)


class NoOp(_GroundTruth):
    """Allocates nothing: returns its prebuilt record."""

    name = "no-op"

    def work(self, call: int) -> None:
        pass


class ManyCalls40K(_GroundTruth):
    """Makes 200 trivial Python calls, then one 40 KiB bytes object 20 frames deep, dropped
    before returning: 40 KiB allocated and peak, whatever a profiler's frames would add."""

    name = "many-calls-40k"
    calls = len(_CALLS) + 21
    size = 40 * 1024
    allocates = sys.getsizeof(bytes(size))

    def work(self, call: int) -> None:
        _calls_and_block(self.size)


def _calls_and_block(size: int) -> None:
    for item in _CALLS:
        _leaf(item)
    block = _nested(20, size)
    del block


class HelperThread64K(_GroundTruth):
    """Has a helper thread (a worker pool's) malloc, touch and free 64 KiB per message while
    the message waits for it."""

    name = "helper-thread-64k"
    allocates = 64 * 1024

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits, routing=routing)
        self.lib.gt_helper_start()

    def work(self, call: int) -> None:
        self.lib.gt_helper_churn(self.allocates)


class PythonThread40K(_GroundTruth):
    """Has a Python helper thread do ManyCalls40K's work (221 Python calls, one 40 KiB bytes
    object 20 frames deep) while each message waits for it. The thread starts with the
    first message, as a worker pool's threads start on first use: under a tracer already.
    The hand-off is two locks, whose acquire and release allocate nothing."""

    name = "python-thread-40k"
    calls = ManyCalls40K.calls
    allocates = ManyCalls40K.allocates

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits, routing=routing)
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.helper: threading.Thread | None = None

    def work(self, call: int) -> None:
        if self.helper is None:
            self.helper = threading.Thread(target=self.serve, name="helper", daemon=True)
            self.helper.start()
        self.go.release()
        self.done.acquire()

    def serve(self) -> None:
        while True:
            self.go.acquire()
            _calls_and_block(ManyCalls40K.size)
            self.done.release()


class PeriodicLeak(_GroundTruth):
    """Leaks 4 KiB natively on every `period`-th call (0, period, 2·period, ...): 1/period of
    messages leak. Subclasses fix the period."""

    name = "periodic-leak"
    period: ClassVar[int] = 1
    leaks = 4096

    def work(self, call: int) -> None:
        if call % self.period == 0:
            self.lib.gt_retain(self.leaks)


class LeakEvery2nd(PeriodicLeak):
    name, period = "leak-every-2nd", 2


class LeakEvery3rd(PeriodicLeak):
    name, period = "leak-every-3rd", 3


class LeakEvery4th(PeriodicLeak):
    name, period = "leak-every-4th", 4


class LeakEvery7th(PeriodicLeak):
    name, period = "leak-every-7th", 7
