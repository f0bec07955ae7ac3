"""`pyyaml-stream`: routing fields straight from libyaml's event stream, no tree.

Only keys of the top-level mapping count. The walk stops as soon as the three routing
fields have been seen as explicit keys, so the rest of the document is never parsed —
that is the point of a streaming router, and also means that content after the routing
fields is not validated. A top-level merge key (`<<: *base`) may supply fields that are
not given explicitly; explicit keys win, as in YAML's merge semantics.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from treasure.errors import BackendError
from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._limits import (
    ALIAS_FILTER,
    ExpansionCounter,
    check_encoding,
    classify_pyyaml,
)
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

_STR_TAG = "tag:yaml.org,2002:str"
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_SAFE_TAGS = frozenset(
    _STANDARD_TAG_PREFIX + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "binary", "timestamp", "set")
)


class _Walk:
    """State of one walk through a document's events."""

    def __init__(
        self, loader: Any, limits: Limits, count_expansion: bool, names: tuple[str, ...]
    ) -> None:
        self.loader = loader
        self.names = names
        self.max_depth = limits.max_depth
        # The walk never expands aliases itself; the budget guards what the router does
        # next, so it is only counted for documents with many aliases (as in precheck).
        self.counter = ExpansionCounter(limits) if count_expansion else None
        self.scalar_anchors: dict[str, str] = {}
        self.mapping_anchors: dict[str, dict[str, str]] = {}
        self.open_mappings: list[tuple[str | None, dict[str, str], bool]] = []
        self.fields: dict[str, str] = {}
        self.merged: dict[str, str] = {}

    def next_event(self) -> Any:
        event = self.loader.get_event()
        if event is None:
            raise ParseError(ErrorCategory.SYNTAX, "document ended early")
        tag = getattr(event, "tag", None)
        if tag and tag != "!" and tag not in _SAFE_TAGS:
            raise ParseError(ErrorCategory.UNSAFE_TAG, f"tag {tag!r} is not allowed")
        if self.counter is not None:
            self.counter.feed(event)
        return event

    def scalar_text(self, event: Any, key: str) -> str:
        """The value of a routing field: it must be a YAML string."""
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.scalar_anchors:
                return self.scalar_anchors[event.anchor]
            raise ParseError(ErrorCategory.SCHEMA, f"routing field {key!r} is not a string")
        if not isinstance(event, yaml.ScalarEvent):
            raise ParseError(ErrorCategory.SCHEMA, f"routing field {key!r} is not a string")
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag != _STR_TAG:
            kind = tag.rsplit(":", 1)[-1]
            raise ParseError(ErrorCategory.SCHEMA, f"routing field {key!r} is a {kind}")
        return str(event.value)


def _route(walk: _Walk) -> Routed:
    event = walk.next_event()
    while not isinstance(event, yaml.DocumentStartEvent):
        if isinstance(event, yaml.StreamEndEvent):
            raise ParseError(ErrorCategory.SCHEMA, "empty document")
        event = walk.next_event()
    event = walk.next_event()
    if not isinstance(event, yaml.MappingStartEvent):
        kind = type(event).__name__.removesuffix("Event").removesuffix("Start").lower()
        raise ParseError(ErrorCategory.SCHEMA, f"top level is a {kind}, not a mapping")
    depth = 1
    expect_key = True
    current_key: str | None = None
    while True:
        event = walk.next_event()
        if depth == 1:
            if isinstance(event, yaml.MappingEndEvent):
                break
            if expect_key:
                current_key = event.value if isinstance(event, yaml.ScalarEvent) else None
                expect_key = False
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1  # a complex key: skip it like any nested value
                continue
            expect_key = True
            if current_key in walk.names:
                walk.fields[current_key] = walk.scalar_text(event, current_key)
                if len(walk.fields) == len(walk.names):
                    return tuple(walk.fields[key] for key in walk.names)
                continue
            if current_key == "<<" and isinstance(event, yaml.AliasEvent) and event.anchor:
                walk.merged = {**walk.mapping_anchors.get(event.anchor, {}), **walk.merged}
        _track_nested(walk, event)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > walk.max_depth:
                raise ParseError(ErrorCategory.LIMIT, f"nesting deeper than {walk.max_depth}")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    fields = {**walk.merged, **walk.fields}
    missing = [key for key in walk.names if key not in fields]
    if missing:
        raise ParseError(ErrorCategory.SCHEMA, f"missing routing field {missing[0]!r}")
    return tuple(fields[key] for key in walk.names)


def _track_nested(walk: _Walk, event: Any) -> None:
    """Remember anchored scalars and the scalar pairs of anchored mappings (for aliases
    and merge keys that supply routing fields)."""
    if isinstance(event, yaml.ScalarEvent) and event.anchor:
        walk.scalar_anchors[event.anchor] = str(event.value)
    if isinstance(event, yaml.MappingStartEvent):
        walk.open_mappings.append((event.anchor, {}, True))
    elif isinstance(event, yaml.SequenceStartEvent):
        walk.open_mappings.append((None, {}, False))
    elif isinstance(event, yaml.CollectionEndEvent) and walk.open_mappings:
        anchor, pairs, _ = walk.open_mappings.pop()
        if anchor:
            walk.mapping_anchors[anchor] = pairs
    elif isinstance(event, yaml.ScalarEvent) and walk.open_mappings:
        _, pairs, is_mapping = walk.open_mappings[-1]
        if is_mapping:
            pending = pairs.pop("\0key", None)
            if pending is None:
                pairs["\0key"] = str(event.value)
            else:
                pairs[pending] = str(event.value)


class PyYAMLStreamBackend:
    """Size, depth and alias expansion are enforced on the events it reads."""

    name: ClassVar[str] = "pyyaml-stream"
    kind: ClassVar[BackendKind] = BackendKind.STREAM
    library: ClassVar[str] = "PyYAML"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        if any(len(field.path) > 1 for field in routing.fields):
            raise BackendError(f"{self.name} routes top-level fields only, not {routing}")
        self.names = routing.names

    def route(self, payload: bytes) -> Routed:
        if len(payload) > self.limits.max_bytes:
            raise ParseError(
                ErrorCategory.LIMIT,
                f"document of {len(payload)} bytes over {self.limits.max_bytes}",
            )
        check_encoding(payload)
        loader = yaml.CSafeLoader(payload)
        try:
            walk = _Walk(loader, self.limits, payload.count(b"*") > ALIAS_FILTER, self.names)
            return _route(walk)
        except yaml.YAMLError as exc:
            raise classify_pyyaml(exc) from None
        finally:
            loader.dispose()
