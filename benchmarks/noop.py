"""A backend that does nothing: what the replay harness itself costs per message."""

from __future__ import annotations

from typing import ClassVar

from treasure.parsers import BackendKind, Limits, Routed
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

_RECORD: Routed = ("noop", "p-0", "s-0")


class NoOpBackend:
    name: ClassVar[str] = "no-op"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> Routed:
        return _RECORD
