"""The routing fields of an event stream, as docs/routing.md defines them.

`walk_mapping` reads one mapping's events to its end and keeps, for each key a routing
path goes through, the field's text, the nested mapping's findings, or the fault; merge
sources are walked the same way and consulted only for keys the mapping lacks. Faults of
kind `schema` wait until the whole document has been read: a later syntax fault or
unsafe tag outranks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from treasure.parsers import ErrorCategory, ParseError, Routed
from treasure.parsers._yaml11 import (
    CONSTRUCTION_FAULTS,
    MERGE_TAG,
    NON_SPECIFIC_TAG,
    NULL_TAG,
    STR_TAG,
    construct_alone,
)
from treasure.routing import FieldKind, RouteField, RoutingSpec

Trie = dict[str, "RouteField | Trie"]
_RESOLVER = Resolver()  # YAML 1.1's implicit resolvers, as PyYAML's SafeLoader has them
_MERGE = "\0<<"  # what `_key` returns for a merge key: no YAML key holds a NUL


class Events(Protocol):
    anchors: dict[str, list[Any]]

    def next(self) -> Any: ...


class Replay:
    """An anchored node's kept events, read again where an alias stands."""

    def __init__(self, events: list[Any], anchors: dict[str, list[Any]]) -> None:
        self._events = iter(events)
        self.anchors = anchors

    def next(self) -> Any:
        return next(self._events)


def trie_of(routing: RoutingSpec) -> Trie:
    trie: Trie = {}
    for route_field in routing.fields:
        node = trie
        for step in route_field.path[:-1]:
            child = node.setdefault(step, {})
            assert isinstance(child, dict)
            node = child
        node[route_field.path[-1]] = route_field
    return trie


@dataclass
class Found:
    """What one mapping holds for the routing paths through it."""

    own: dict[str, str | Found | ParseError] = field(default_factory=dict)
    merges: list[Found | ParseError] = field(default_factory=list)


def _schema(message: str) -> ParseError:
    return ParseError(ErrorCategory.SCHEMA, message)


def scalar_tag(event: Any) -> str:
    tag = event.tag
    if tag is None or tag == NON_SPECIFIC_TAG:
        return str(_RESOLVER.resolve(ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]
    return str(tag)


def _kind(event: Any) -> str:
    if isinstance(event, yaml.ScalarEvent):
        return scalar_tag(event).rsplit(":", 1)[-1]
    return "mapping" if isinstance(event, yaml.MappingStartEvent) else "sequence"


def _skip(events: Events, event: Any) -> None:
    depth = 1 if isinstance(event, yaml.CollectionStartEvent) else 0
    while depth:
        event = events.next()
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _source(live: Events, events: Events, event: Any) -> tuple[Events, Any]:
    """Where a node's events come from: here, or an alias's anchored node replayed."""
    if not isinstance(event, yaml.AliasEvent):
        return events, event
    kept = live.anchors.get(str(event.anchor))
    if kept is None:  # an alias inside the node its anchor names
        raise _schema(f"alias {event.anchor!r} refers to a node that contains it")
    replay = Replay(kept, live.anchors)
    return replay, replay.next()


def _key(live: Events, events: Events, event: Any, trie: Trie) -> str | None:
    """The key's text when it could match a step or be `<<`, else None (skipped)."""
    source, event = _source(live, events, event)
    if not isinstance(event, yaml.ScalarEvent):
        _skip(source, event)  # a complex key never matches
        return None
    if event.value not in trie and event.value != "<<":
        return None
    tag = scalar_tag(event)
    if tag == MERGE_TAG:
        return _MERGE
    return str(event.value) if tag == STR_TAG else None


def leaf_text(event: Any, route_field: RouteField) -> str:
    tag = scalar_tag(event)
    name = route_field.dotted
    if route_field.kind is FieldKind.STRING:
        if tag != STR_TAG:
            raise _schema(f"routing field {name!r} is a {tag.rsplit(':', 1)[-1]}, not a string")
        return str(event.value)
    if tag == NULL_TAG:
        raise _schema(f"routing field {name!r} is null")
    if tag != STR_TAG:
        try:
            construct_alone(ScalarNode(tag, event.value))
        except (yaml.YAMLError, *CONSTRUCTION_FAULTS) as exc:
            raise _schema(f"routing field {name!r} does not fit its tag {tag}: {exc}") from None
    return str(event.value)


def _target(live: Events, events: Events, event: Any, target: RouteField | Trie) -> Any:
    source, event = _source(live, events, event)
    if isinstance(target, RouteField):
        if not isinstance(event, yaml.ScalarEvent):
            _skip(source, event)
            return _schema(f"routing field {target.dotted!r} is a {_kind(event)}")
        try:
            return leaf_text(event, target)
        except ParseError as exc:
            return exc
    if isinstance(event, yaml.MappingStartEvent):
        return walk_mapping(live, source, target)
    _skip(source, event)
    return _schema(f"a mapping on a routing path is a {_kind(event)}")


def _merge(live: Events, events: Events, event: Any, trie: Trie) -> list[Found | ParseError]:
    source, event = _source(live, events, event)
    if isinstance(event, yaml.MappingStartEvent):
        return [walk_mapping(live, source, trie)]
    if not isinstance(event, yaml.SequenceStartEvent):
        return [_schema(f"a merge key brings in a {_kind(event)}, not a mapping")]
    merged: list[Found | ParseError] = []
    while not isinstance(item := source.next(), yaml.SequenceEndEvent):
        item_source, item = _source(live, source, item)
        if isinstance(item, yaml.MappingStartEvent):
            merged.append(walk_mapping(live, item_source, trie))
        else:
            _skip(item_source, item)
            merged.append(_schema(f"a merge key brings in a {_kind(item)}, not a mapping"))
    return merged


def walk_mapping(live: Events, events: Events, trie: Trie) -> Found:
    """Read a mapping's events up to its end (its start already read)."""
    found = Found()
    while not isinstance(event := events.next(), yaml.MappingEndEvent):
        step = _key(live, events, event, trie)
        value = events.next()
        if step == _MERGE:
            found.merges.extend(_merge(live, events, value, trie))
            continue
        target = trie.get(step) if step is not None else None
        if step is None or target is None:
            _skip(events, value)  # an alias here is one event: nothing to replay
            continue
        outcome = _target(live, events, value, target)
        repeated = step in found.own
        found.own[step] = _schema(f"duplicate routing key {step!r}") if repeated else outcome
    return found


def _lookup(found: Found, step: str) -> str | Found | ParseError | None:
    if step in found.own:
        return found.own[step]
    for merged in found.merges:
        if isinstance(merged, ParseError):
            return merged
    for merged in found.merges:
        assert isinstance(merged, Found)
        entry = _lookup(merged, step)
        if entry is not None:
            return entry
    return None


def resolve_fields(root: Found, routing: RoutingSpec) -> Routed:
    values = []
    for route_field in routing.fields:
        entry: str | Found | ParseError | None = root
        for step in route_field.path:
            if isinstance(entry, ParseError):
                raise entry
            assert isinstance(entry, Found)
            entry = _lookup(entry, step)
            if entry is None:
                raise _schema(f"missing routing field {route_field.dotted!r}")
        if isinstance(entry, ParseError):
            raise entry
        assert isinstance(entry, str)
        values.append(entry)
    return tuple(values)
