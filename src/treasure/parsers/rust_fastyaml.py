"""`rust-fastyaml`: the fastyaml-rs wheel (Rust, PyPI) loads the whole document safely.

Limits, as its API allows:
- `max_bytes`: checked here before the call (fastyaml-rs has only a fixed 100 MB cap).
- `max_depth`: passed as its `max_depth` (it accepts 1..512, clamped into that range).
- `max_alias_expansion`: passed as its `max_alias_bytes`, a budget in bytes of expanded
  alias text, at `ALIAS_BYTES_PER_NODE` bytes per node (it counts bytes, not nodes).
- one document per payload (`max_documents=1`), as a safe loader's single-document load.

fastyaml-rs ignores tags instead of refusing them (`!!python/object/apply:os.system [...]`
loads as the plain list: nothing runs, but nothing is refused either). So a payload holding
`!` has its events walked with PyYAML's C parser after a successful load, and any tag a safe
loader would not resolve is refused as unsafe. Payloads without `!` skip that walk.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml
from fast_yaml import _core as fast_yaml_core

from treasure.parsers import (
    BackendKind,
    ErrorCategory,
    Limits,
    ParseError,
    Routed,
    route_from_document,
)
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

ALIAS_BYTES_PER_NODE = 16
MAX_DEPTH_RANGE = (1, 512)
MAX_ALIAS_BYTES_RANGE = (1, 1 << 30)
YAML_TAG_PREFIX = "tag:yaml.org,2002:"
SAFE_TAGS = frozenset(
    YAML_TAG_PREFIX + name
    for name in (
        "str", "int", "float", "bool", "null", "seq", "map", "binary", "timestamp", "set",
        "omap", "pairs", "merge", "value",
    )
) | {"!"}  # fmt: skip
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return max(low, min(high, value))


def classify_fastyaml(exc: ValueError) -> ParseError:
    """fastyaml-rs raises ValueError for everything; its message names the kind."""
    text = " ".join(str(exc).split())
    if "document count exceeds" in text:
        return ParseError(ErrorCategory.SYNTAX, f"expected a single document: {text}")
    if "resource limit exceeded" in text or ("limit" in text and "digits" in text):
        return ParseError(ErrorCategory.LIMIT, text)
    return ParseError(ErrorCategory.SYNTAX, text)


def refuse_unsafe_tags(text: str) -> None:
    """Walk the events and refuse any tag outside the safe loader's set."""
    loader = _EVENT_LOADER(text)
    try:
        while loader.check_event():
            tag = getattr(loader.get_event(), "tag", None)
            if tag is not None and tag not in SAFE_TAGS:
                raise ParseError(ErrorCategory.UNSAFE_TAG, f"refused tag {tag}")
    except yaml.YAMLError as exc:
        raise ParseError(ErrorCategory.SYNTAX, " ".join(str(exc).split())) from None
    finally:
        loader.dispose()


class FastYamlBackend:
    """Whole-document safe load in Rust; routing fields picked from the dict."""

    name: ClassVar[str] = "rust-fastyaml"
    kind: ClassVar[BackendKind] = BackendKind.RUST
    library: ClassVar[str] = "fastyaml-rs"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self._max_depth = _clamp(limits.max_depth, MAX_DEPTH_RANGE)
        self._max_alias_bytes = _clamp(
            limits.max_alias_expansion * ALIAS_BYTES_PER_NODE, MAX_ALIAS_BYTES_RANGE
        )

    def load(self, payload: bytes) -> Any:
        if len(payload) > self.limits.max_bytes:
            raise ParseError(
                ErrorCategory.LIMIT,
                f"document of {len(payload)} bytes over {self.limits.max_bytes}",
            )
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                ErrorCategory.ENCODING, f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
            ) from None
        try:
            document = fast_yaml_core.safe_load(
                text,
                max_depth=self._max_depth,
                max_alias_bytes=self._max_alias_bytes,
                max_documents=1,
            )
        except ValueError as exc:
            raise classify_fastyaml(exc) from None
        if "!" in text:
            refuse_unsafe_tags(text)
        return document

    def route(self, payload: bytes) -> Routed:
        return route_from_document(self.load(payload), self.routing)
