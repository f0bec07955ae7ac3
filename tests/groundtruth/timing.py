"""Ground-truth backends for the latency probe: each spends a known time per message.

They spin on the same clock the probe reads, so a message can never take less than its
known spend; the probe is right when its median sits just above it.
"""

from __future__ import annotations

import time
from typing import ClassVar

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

_RECORD: Routed = ("ground.truth", "p-0", "s-0")


class _Spin:
    name: ClassVar[str] = "spin"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""
    spend_ns: ClassVar[int] = 0

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> Routed:
        deadline = time.perf_counter_ns() + self.spend_ns
        while time.perf_counter_ns() < deadline:
            pass
        return _RECORD


class Spin100us(_Spin):
    name = "spin-100us"
    spend_ns = 100_000


class Spin200us(_Spin):
    name = "spin-200us"
    spend_ns = 200_000


class Spin400us(_Spin):
    name = "spin-400us"
    spend_ns = 400_000


class NoOp(_Spin):
    """Does nothing: what remains is the harness's own cost per message."""

    name = "no-op"

    def route(self, payload: bytes) -> Routed:
        return _RECORD


class RejectEveryThird(_Spin):
    """Raises a classified error on every third frame (by payload), routes the rest."""

    name = "reject-every-third"

    def route(self, payload: bytes) -> Routed:
        if payload.endswith(b"#reject"):
            raise ParseError(ErrorCategory.SYNTAX, "rejected on purpose")
        return _RECORD


class Crash(_Spin):
    """Kills its process on the first message: a target that dies."""

    name = "crash"

    def route(self, payload: bytes) -> Routed:
        import os

        os.abort()


class CollectEveryMessage(_Spin):
    """Runs one full collection per message: the GC probe must count exactly that."""

    name = "collect-every-message"

    def route(self, payload: bytes) -> Routed:
        import gc

        gc.collect()
        return _RECORD


class Leak100KiB(_Spin):
    """Keeps 100 KiB (touched, so resident) per message: RSS must grow by that much."""

    name = "leak-100kib"
    kept: ClassVar[list[bytearray]] = []

    def route(self, payload: bytes) -> Routed:
        self.kept.append(bytearray(b"\x01" * 102_400))
        return _RECORD


class Hang(_Spin):
    """Never returns: a target that hangs."""

    name = "hang"

    def route(self, payload: bytes) -> Routed:
        while True:
            time.sleep(1)


class Spin300us(_Spin):
    name = "spin-300us"
    spend_ns = 300_000


_STEPS = (None,) * 2000  # iterated, not ranged: the same instructions every message


class _Work(_Spin):
    """Does a fixed amount of interpreter work per message, whatever the clock says: the
    instructions it retires are the same every message, `repeats` times those of Work1x."""

    repeats: ClassVar[int] = 1

    def route(self, payload: bytes) -> Routed:
        for _ in range(self.repeats):
            for step in _STEPS:
                if step is not None:
                    break
        return _RECORD


class Work1x(_Work):
    name = "work-1x"


class Work2x(_Work):
    name, repeats = "work-2x", 2


class Spin1ms(_Spin):
    name = "spin-1ms"
    spend_ns = 1_000_000
