"""Rust routing backends for treasure, registered in the `treasure.parsers` entry-point group.

- `rust-serde`: serde deserializes a three-field Rust struct straight from the parser's event
  stream; every other key is skipped on the stream, never built.
- `rust-events`: a hand-written walk over the parser's events that stops as soon as the three
  top-level routing fields are known.
- `rust-scan`: one forward pass over the bytes that finds the routing fields without a
  parser, handing what it does not handle to the `rust-events` walk (`fallbacks` counts them).

Both subclass their native router, so `route` is the compiled method itself: no Python frame
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
    """serde deserialization into a struct, streamed from parser events under the limits."""

    name: ClassVar[str] = "rust-serde"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY


class RustEventsBackend(EventsRouter):
    """Parser events walked by hand, stopping at the third top-level routing field."""

    name: ClassVar[str] = "rust-events"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY


class RustScanBackend(ScanRouter):
    """One pass over the bytes for the routing fields; the event walk for what it can't read."""

    name: ClassVar[str] = "rust-scan"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = LIBRARY
