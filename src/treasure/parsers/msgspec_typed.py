"""`msgspec-typed`: decode into a msgspec Struct schema built from the routing spec.

Labelled for what it is: msgspec's YAML support is PyYAML's C loader plus a conversion,
so the whole tree is still built; only the conversion into the typed record is msgspec's.
The Struct is built once per spec, nested paths as nested Structs (`actor.id` gives an
`actor` field holding a Struct with an `id` field).
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._limits import precheck
from treasure.routing import DEFAULT_ROUTING, FieldKind, RoutingSpec

# A `scalar` field takes any non-null scalar the loader builds.
_SCALAR = str | int | float | bool


def _struct_for(tree: dict[str, Any], name: str) -> type[msgspec.Struct]:
    """A Struct whose fields are the tree's keys: a leaf's kind or a nested tree."""
    fields: list[tuple[str, Any]] = []
    rename: dict[str, str] = {}
    for index, (key, leaf) in enumerate(tree.items()):
        attr = _attr(index)  # YAML keys need not be identifiers
        rename[attr] = key
        if isinstance(leaf, dict):
            fields.append((attr, _struct_for(leaf, f"{name}_{index}")))
        else:
            fields.append((attr, str if leaf is FieldKind.STRING else _SCALAR))
    return msgspec.defstruct(name, fields, rename=rename)


def _attr(index: int) -> str:
    return f"f{index}"


def schema_for(routing: RoutingSpec) -> tuple[type[msgspec.Struct], list[tuple[str, ...]]]:
    """The Struct for a spec, and each field's attribute path through it."""
    tree: dict[str, Any] = {}
    attr_paths: list[tuple[str, ...]] = []
    for field in routing.fields:
        node = tree
        attrs = []
        for step in field.path[:-1]:
            attrs.append(_attr(list(node).index(step) if step in node else len(node)))
            node = node.setdefault(step, {})
        attrs.append(_attr(len(node)))
        node[field.path[-1]] = field.kind
        attr_paths.append(tuple(attrs))
    return _struct_for(tree, "EventMessage"), attr_paths


def _classify(exc: msgspec.DecodeError) -> ParseError:
    text = " ".join(str(exc).split())
    if "could not determine a constructor for the tag" in text:
        return ParseError(ErrorCategory.UNSAFE_TAG, text)
    if "maximum recursion depth" in text:
        return ParseError(ErrorCategory.LIMIT, text)
    return ParseError(ErrorCategory.SYNTAX, text)


class MsgspecTypedBackend:
    name: ClassVar[str] = "msgspec-typed"
    kind: ClassVar[BackendKind] = BackendKind.TYPED
    library: ClassVar[str] = "msgspec"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.schema, self._attr_paths = schema_for(routing)

    def route(self, payload: bytes) -> Routed:
        precheck(payload, self.limits)
        try:
            message = msgspec.yaml.decode(payload, type=self.schema)
        except msgspec.ValidationError as exc:
            raise ParseError(ErrorCategory.SCHEMA, str(exc)) from None
        except msgspec.DecodeError as exc:
            raise _classify(exc) from None
        except RecursionError:
            raise ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser") from None
        return tuple(_pick(message, attrs) for attrs in self._attr_paths)

    def load(self, payload: bytes) -> Any:
        precheck(payload, self.limits)
        try:
            return msgspec.yaml.decode(payload)
        except msgspec.DecodeError as exc:
            raise _classify(exc) from None
        except RecursionError:
            raise ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser") from None


def _pick(message: msgspec.Struct, attrs: tuple[str, ...]) -> str:
    value: Any = message
    for attr in attrs:
        value = getattr(value, attr)
    return value if isinstance(value, str) else str(value)
