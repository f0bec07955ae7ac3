"""A ground-truth router backend for the target's RSS figures: it keeps exactly
LEAK_BYTES of written (resident) memory alive per message it routes."""

from __future__ import annotations

from typing import ClassVar

from treasure.parsers import BackendKind, Limits, RoutedEvent

LEAK_BYTES = 64 << 10
KEPT: list[bytes] = []  # process-wide, as a real leak is: it outlives the connection


class LeakyBackend:
    name: ClassVar[str] = "leaky"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> RoutedEvent:
        # bytes * n writes every byte, so every page of it is resident
        KEPT.append(b"\x01" * LEAK_BYTES)
        return RoutedEvent("leak", str(len(KEPT)), "s")
