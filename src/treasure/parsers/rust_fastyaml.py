"""`rust-fastyaml`: the fastyaml-rs wheel (Rust, PyPI) loads the whole document safely.

Limits, as its API allows:
- all three are first checked exactly by treasure's precheck, as for the PyYAML backends
  (`_limits.precheck`); fastyaml-rs's own limits stay on behind it:
- `max_bytes`: checked here before the call (fastyaml-rs has only a fixed 100 MB cap).
- `max_depth`: passed as its `max_depth` (it accepts 1..512, clamped into that range).
- `max_alias_expansion`: counted exactly by the precheck; fastyaml-rs's `max_alias_bytes`
  (a budget in bytes of expanded alias text, not nodes) is set to what that many nodes of
  at most `max_bytes` each could reach, so it never refuses what the count allows.
- one document per payload (`max_documents=1`), as a safe loader's single-document load.

fastyaml-rs ignores tags instead of refusing them (`!!python/object/apply:os.system [...]`
loads as the plain list: nothing runs, but nothing is refused either). So a payload where a
`!` could start a tag (after white space, a line start or a flow indicator) has its events
walked with PyYAML's C parser after a successful load, and any tag outside the one safe
list (`_yaml11.SAFE_TAGS`) is refused as unsafe. A `!` inside a word (`a!b`, an anchor
name) starts no tag and costs no walk.

It is a YAML 1.2 library (core schema) returning a plain dict: where that differs from
the YAML 1.1 definition is listed in docs/routing.md ("Where backends may differ").
"""

from __future__ import annotations

import re
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
from treasure.parsers._limits import precheck
from treasure.parsers._yaml11 import SAFE_TAGS
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

MAX_DEPTH_RANGE = (1, 512)
MAX_ALIAS_BYTES_RANGE = (1, 1 << 30)
_TAG_START = re.compile(r"(?:^|[\s\[\]{},])!", re.MULTILINE)
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
    if "complex keys" in text or "merge key `<<` requires" in text:
        return ParseError(ErrorCategory.SCHEMA, text)  # well-formed, as every backend says
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
            limits.max_alias_expansion * limits.max_bytes, MAX_ALIAS_BYTES_RANGE
        )

    def load(self, payload: bytes) -> Any:
        text = precheck(payload, self.limits)  # exact node counts, not fastyaml's bytes
        try:
            document = fast_yaml_core.safe_load(
                text,
                max_depth=self._max_depth,
                max_alias_bytes=self._max_alias_bytes,
                max_documents=1,
            )
        except ValueError as exc:
            raise classify_fastyaml(exc) from None
        if "!" in text and _TAG_START.search(text):
            refuse_unsafe_tags(text)
        return document

    def route(self, payload: bytes) -> Routed:
        return route_from_document(self.load(payload), self.routing)
