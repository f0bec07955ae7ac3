"""Rust routing backends for treasure, registered in the `treasure.parsers` entry-point group.

`rust-serde` and `rust-events` take `routing=` (a `treasure.routing.RoutingSpec`, read once
at construction) and route with docs/routing.md's meaning over one shared walk of the
parser's events:

- `rust-serde`: serde driven by the spec at runtime (a `DeserializeSeed` per routing
  mapping) over the nodes the walk kept.
- `rust-events`: each field's path looked up by hand in the nodes the walk kept.
- `rust-scan`: one forward pass over the bytes that finds the routing fields without a
  parser, handing what it does not handle to the `rust-events` walk (`fallbacks` counts them).

Each subclasses its native router, so `route` is the compiled method itself: no Python frame
per message. The parse runs with the GIL released.
"""

from __future__ import annotations

from typing import ClassVar

from treasure.parsers import BackendKind
from treasure_rs._native import EventsRouter, ScanRouter, SerdeRouter

__all__ = [
    "EventsRouter",
    "RustEventsBackend",
    "RustScanBackend",
    "RustSerdeBackend",
    "ScanRouter",
    "SerdeRouter",
]

LIBRARY = "treasure-rs"


class RustSerdeBackend(SerdeRouter):
    """serde driven by the routing spec at runtime, over the shared event walk."""

    name: ClassVar[str] = "rust-serde"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY


class RustEventsBackend(EventsRouter):
    """The routing spec's paths looked up by hand over the shared event walk."""

    name: ClassVar[str] = "rust-events"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY


class RustScanBackend(ScanRouter):
    """One pass over the bytes for the routing fields; the event walk for what it can't read."""

    name: ClassVar[str] = "rust-scan"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY
