"""Ground-truth backends for the soak: growth per message known exactly, or known to be none.

Leaks are booked as the allocators book them, which is what the live heap counts: a native
malloc(n) takes n + 8 bytes rounded up to 16 (glibc's chunk), a Python object its
`sys.getsizeof` rounded up to pymalloc's 16-byte size class.
"""

from __future__ import annotations

import random
import sys
from typing import ClassVar

from tests.groundtruth.native import _GroundTruth

from treasure.parsers import Limits
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


def malloc_chunk(n: int) -> int:
    """What glibc's malloc(n) takes from the heap on 64-bit Linux."""
    return max(32, (n + 8 + 15) // 16 * 16)


class Link:
    """One leaked Python object: a chain of them is reachable, so no collection frees it."""

    __slots__ = ("previous",)

    def __init__(self, previous: Link | None) -> None:
        self.previous = previous


LINK_BYTES = (sys.getsizeof(Link(None)) + 15) // 16 * 16  # pymalloc's size class


class FlatChurn(_GroundTruth):
    """Allocates and frees 4 KiB of Python bytes and 16 KiB natively per message, keeps
    nothing: no growth."""

    name = "flat-churn"

    def work(self, call: int) -> None:
        block = bytes(4096)
        self.lib.gt_churn(16 * 1024)
        del block


class PythonLeakEvery3rd(_GroundTruth):
    """Leaks one small Python object (pymalloc, never malloc) on every 3rd message."""

    name = "python-leak-every-3rd"
    period: ClassVar[int] = 3
    leaks = LINK_BYTES

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits)
        self.chain: Link | None = None

    def work(self, call: int) -> None:
        if call % self.period == 0:
            self.chain = Link(self.chain)


class NoisyTinyLeak(_GroundTruth):
    """Holds a buffer of a seeded random size up to 512 KiB, replaced every message (a cache
    that fills and empties), and leaks 64 B natively every 256th message: 0.28 B/message
    (its 80-byte chunk ÷ 256), far inside what the noise lets a soak resolve."""

    name = "noisy-tiny-leak"
    period: ClassVar[int] = 256
    leaks = malloc_chunk(64)
    noise = 512 * 1024

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits)
        self.random = random.Random(0)
        self.held = b""

    def work(self, call: int) -> None:
        self.held = b""
        self.held = bytes(self.random.randrange(self.noise))
        if call % self.period == 0:
            self.lib.gt_retain(64)


class Leak64KEvery(_GroundTruth):
    """Leaks 64 KiB natively on every message, every page touched: RSS climbs ~64 KiB a
    message, for the --until guard."""

    name = "leak-64k"
    leaks = malloc_chunk(64 * 1024)

    def work(self, call: int) -> None:
        self.lib.gt_retain(64 * 1024)
