"""`pyyaml-stream`: routing fields straight from libyaml's event stream, no tree.

Values no routing path goes through are skipped on the stream, never built. What the
definition (docs/routing.md) needs is read to its end: every key of each mapping on a
routing path (a key written twice there is a fault, so the walk cannot stop at the last
field), the rest of the document (one document, well-formed) and every tag in it. The only
events kept are those of anchored nodes, so an alias (`player_id: *p`, `meta: *m`,
`<<: [*a, *b]`) can be replayed where a routing path goes through it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._limits import ExpansionCounter, check_size
from treasure.parsers._stream_fields import Trie, resolve_fields, trie_of, walk_mapping
from treasure.parsers._yaml11 import (
    CONSTRUCTION_FAULTS,
    CSafeLoader,
    classify,
    decode_text,
    is_safe_tag,
    unsafe_tag_error,
)
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


class LiveEvents:
    """Events from the parser, under the tag rule and the depth and expansion limits;
    anchored nodes' events are kept for replay."""

    def __init__(self, loader: Any, limits: Limits, count_expansion: bool) -> None:
        self.loader = loader
        self.max_depth = limits.max_depth
        self.counter = ExpansionCounter(limits) if count_expansion else None
        self.anchors: dict[str, list[Any]] = {}
        self.recording: list[tuple[str, list[Any], int]] = []  # anchor, events, depth
        self.depth = 0
        self.unsafe: ParseError | None = None

    def next(self) -> Any:
        event = self.loader.get_event()
        if event is None:
            raise ParseError(ErrorCategory.SYNTAX, "document ended early")
        tag = getattr(event, "tag", None)
        if self.unsafe is None and not is_safe_tag(tag):
            self.unsafe = unsafe_tag_error(str(tag))  # raised once the document proves well-formed
        if self.counter is not None:
            self.counter.feed(event)
        for _, events, _ in self.recording:
            events.append(event)
        self._track(event)
        return event

    def _track(self, event: Any) -> None:
        if isinstance(event, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > self.max_depth:
                raise ParseError(ErrorCategory.LIMIT, f"nesting deeper than {self.max_depth}")
            if event.anchor:
                self.recording.append((event.anchor, [event], self.depth))
        elif isinstance(event, yaml.CollectionEndEvent):
            if self.recording and self.recording[-1][2] == self.depth:
                anchor, events, _ = self.recording.pop()
                self.anchors[anchor] = events
            self.depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and event.anchor:
            self.anchors[event.anchor] = [event]
        elif isinstance(event, yaml.AliasEvent) and not self._defined(str(event.anchor)):
            raise ParseError(ErrorCategory.SYNTAX, f"found undefined alias {event.anchor!r}")

    def _defined(self, anchor: str) -> bool:
        return anchor in self.anchors or any(a == anchor for a, _, _ in self.recording)


def _route(live: LiveEvents, trie: Trie, routing: RoutingSpec) -> Routed:
    event = live.next()  # the stream's start
    event = live.next()
    if isinstance(event, yaml.StreamEndEvent):
        raise ParseError(ErrorCategory.SCHEMA, "empty document")
    top = live.next()
    found = None
    if isinstance(top, yaml.MappingStartEvent):
        found = walk_mapping(live, live, trie)
    else:
        _skip(live, top)
    live.next()  # the document's end
    if not isinstance(live.next(), yaml.StreamEndEvent):
        raise ParseError(ErrorCategory.SYNTAX, "expected a single document in the stream")
    if live.unsafe is not None:
        raise live.unsafe
    if found is None:
        kind = type(top).__name__.removesuffix("Event").removesuffix("Start").lower()
        raise ParseError(ErrorCategory.SCHEMA, f"top level is a {kind}, not a mapping")
    return resolve_fields(found, routing)


def _skip(live: LiveEvents, event: Any) -> None:
    depth = 1 if isinstance(event, yaml.CollectionStartEvent) else 0
    while depth:
        event = live.next()
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class PyYAMLStreamBackend:
    """Size, depth and alias expansion are enforced on the events it reads."""

    name: ClassVar[str] = "pyyaml-stream"
    kind: ClassVar[BackendKind] = BackendKind.STREAM
    library: ClassVar[str] = "PyYAML"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.trie = trie_of(routing)

    def route(self, payload: bytes) -> Routed:
        check_size(payload, self.limits)
        decode_text(payload)
        loader = CSafeLoader(payload)
        try:
            return _route(LiveEvents(loader, self.limits, b"*" in payload), self.trie, self.routing)
        except (yaml.YAMLError, RecursionError, MemoryError, *CONSTRUCTION_FAULTS) as exc:
            raise classify(exc) from None
        finally:
            loader.dispose()
