"""`rapidyaml`: rapidyaml (C++, the `contenders` extra) parses each message into a tree and
the routing fields are looked up in it natively; `pyyaml-stream` answers whatever the fast
path cannot be sure of, and `fallbacks` counts those messages.

What a user calling rapidyaml directly would get, held to docs/routing.md:
- the fast path takes only messages a few byte counts prove simple: no alias (`*`), no
  merge key (`<<`), no tag (`!` where it could start one), no nesting that could reach
  `max_depth`, each routing key's text written once (a duplicate cannot hide), and no
  backslash escape when a key would have to be compared by hand;
- the parse fills a fresh tree (rapidyaml parses *into* an existing tree, appending to its
  root, so a reused tree would answer the first message's fields forever);
- plain values resolve as YAML 1.1 with PyYAML's own resolver table, so `yes` or a date
  is no string; a `scalar` field holding a timestamp goes to the fallback (its date must
  be checked);
- anything rapidyaml refuses, a stream of several documents, a routing value that is a
  collection, a step a plain key could not spell (`on`) goes to the fallback, so every
  fault's category is `pyyaml-stream`'s, limits included.

rapidyaml's error handler also writes each refused message's error to stderr.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import ryml  # type: ignore[import-untyped, unused-ignore]
import yaml
from yaml.nodes import ScalarNode

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._limits import check_size, could_nest_deeper
from treasure.parsers._yaml11 import STR_TAG, decode_text
from treasure.parsers.pyyaml_stream import PyYAMLStreamBackend
from treasure.routing import DEFAULT_ROUTING, FieldKind, RouteField, RoutingSpec

_TAG_START = re.compile(rb"(?:^|[\s\[\]{},])!", re.MULTILINE)
_RESOLVER = yaml.resolver.Resolver()
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_NULL_TAG = "tag:yaml.org,2002:null"
NOT_FOUND = ryml.NONE


class _Unsure(Exception):
    """The fast path cannot answer this message: the fallback will."""


def plain_tag(text: str) -> str:
    """The tag YAML 1.1 (PyYAML's table) gives a plain scalar."""
    if text and text[0] not in _IMPLICIT:
        return STR_TAG  # no resolver starts with this character: a string
    return str(_RESOLVER.resolve(ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


def _spellable(route_field: RouteField) -> bool:
    """Whether every step, written as a plain key, is the string it names (not `on`)."""
    return all(plain_tag(step) == STR_TAG for step in route_field.path)


class RapidYamlBackend:
    name: ClassVar[str] = "rapidyaml"
    kind: ClassVar[BackendKind] = BackendKind.CONTENDER
    library: ClassVar[str] = "rapidyaml"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.fallbacks = 0
        self._full = PyYAMLStreamBackend(limits=limits, routing=routing)
        self._steps = [tuple(step.encode() for step in f.path) for f in routing.fields]
        self._keys = {step for steps in self._steps for step in steps}
        self._spellable = all(_spellable(f) for f in routing.fields)

    def route(self, payload: bytes) -> Routed:
        check_size(payload, self.limits)
        decode_text(payload)  # `encoding` before anything rapidyaml might say
        try:
            return self._fast(payload)
        except _Unsure:
            self.fallbacks += 1
            return self._full.route(payload)

    def _simple(self, payload: bytes) -> bool:
        return not (
            not self._spellable
            or b"*" in payload
            or b"<<" in payload
            or (b"!" in payload and _TAG_START.search(payload))
            or could_nest_deeper(payload, self.limits)
            or any(payload.count(key) != 1 for key in self._keys)
        )

    def _fast(self, payload: bytes) -> Routed:
        if not self._simple(payload):
            raise _Unsure
        tree = ryml.Tree()
        try:
            ryml.parse_in_arena(payload, tree=tree)
        except Exception:  # rapidyaml's refusal: the fallback classifies it
            raise _Unsure from None
        root = tree.root_id()
        if not tree.is_map(root):
            raise _Unsure  # a stream of documents, a list, a scalar: the fallback decides
        escaped = b"\\" in payload
        return tuple(
            self._value(tree, self._node(tree, root, steps, escaped), field)
            for steps, field in zip(self._steps, self.routing.fields, strict=True)
        )

    @staticmethod
    def _node(tree: Any, root: int, steps: tuple[bytes, ...], escaped: bool) -> int:
        node = root
        for step in steps:
            if not tree.is_map(node):
                raise _Unsure
            node = tree.find_child(node, step)
            if node == NOT_FOUND or (escaped and _keys_spelled(tree, tree.parent(node), step)):
                raise _Unsure  # missing (the fallback names it), or escapes could hide a twin
        return node

    @staticmethod
    def _value(tree: Any, node: int, route_field: RouteField) -> str:
        if not tree.is_keyval(node):
            raise _Unsure  # a collection: the fallback's schema fault names it
        raw = tree.val(node)
        text = "" if raw is None else bytes(raw).decode("utf-8")
        if not tree.is_val_plain(node):
            return text  # quoted, literal or folded: a string whatever its characters
        tag = plain_tag(text)
        if tag == STR_TAG:
            return text
        if route_field.kind is FieldKind.STRING:
            short = tag.rsplit(":", 1)[-1]
            raise ParseError(
                ErrorCategory.SCHEMA,
                f"routing field {route_field.dotted!r} is a {short}, not a string",
            )
        if tag in (_NULL_TAG, _TIMESTAMP_TAG):
            raise _Unsure  # null is named by the fallback; a timestamp's date is checked there
        return text


def _keys_spelled(tree: Any, mapping: int, step: bytes) -> bool:
    """Whether more than one key of the mapping reads `step` once unescaped."""
    found = 0
    child = tree.first_child(mapping)
    while child != NOT_FOUND:
        found += tree.has_key(child) and bytes(tree.key(child)) == step
        child = tree.next_sibling(child)
    return found > 1
