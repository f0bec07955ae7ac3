"""The routing fields of a composed node graph, as docs/routing.md defines them.

Shared by the backends that compose a whole document (PyYAML's and ruamel.yaml's nodes
have the same shape: `id`, `tag`, `value`). Nodes, not constructed values, because the
definition needs what construction loses: which keys were written twice, which came in
through `<<`, and the characters of a `scalar` field.
"""

from __future__ import annotations

from typing import Any

from treasure.parsers import ErrorCategory, ParseError, Routed
from treasure.parsers._yaml11 import MERGE_TAG, NULL_TAG, STR_TAG
from treasure.routing import FieldKind, RouteField, RoutingSpec


def _schema(message: str) -> ParseError:
    return ParseError(ErrorCategory.SCHEMA, message)


def kind_of(node: Any) -> str:
    if node.id == "scalar":
        return str(node.tag).rsplit(":", 1)[-1]
    return str(node.id)


def merge_sources(mapping: Any) -> list[Any]:
    """The mappings `<<` brings in, in precedence order (earlier wins)."""
    sources = []
    for key, value in mapping.value:
        if key.tag != MERGE_TAG:
            continue
        for source in value.value if value.id == "sequence" else [value]:
            if source.id != "mapping":
                raise _schema(f"a merge key brings in a {kind_of(source)}, not a mapping")
            sources.append(source)
    return sources


def lookup(mapping: Any, step: str, seen: frozenset[int] = frozenset()) -> Any | None:
    """The value of key `step`: the mapping's own, else the first merge source's."""
    own = [
        value
        for key, value in mapping.value
        if key.id == "scalar" and key.tag == STR_TAG and key.value == step
    ]
    if len(own) > 1:
        raise _schema(f"duplicate routing key {step!r}")
    if own:
        return own[0]
    seen = seen | {id(mapping)}
    for source in merge_sources(mapping):
        if id(source) in seen:
            raise _schema("a mapping merges itself")
        found = lookup(source, step, seen)
        if found is not None:
            return found
    return None


def field_text(node: Any, field: RouteField) -> str:
    if node.id != "scalar":
        raise _schema(f"routing field {field.dotted!r} is a {node.id}")
    if field.kind is FieldKind.STRING and node.tag != STR_TAG:
        raise _schema(f"routing field {field.dotted!r} is a {kind_of(node)}, not a string")
    if node.tag == NULL_TAG:
        raise _schema(f"routing field {field.dotted!r} is null")
    return str(node.value)


def field_node(root: Any, field: RouteField) -> Any:
    node = root
    for depth, step in enumerate(field.path):
        if node.id != "mapping":
            parent = ".".join(field.path[:depth])
            raise _schema(f"{parent!r} is a {kind_of(node)}, not a mapping")
        found = lookup(node, step)
        if found is None:
            raise _schema(f"missing routing field {field.dotted!r}")
        node = found
    return node


def check_root(root: Any) -> None:
    if root is None:
        raise _schema("empty document")
    if root.id != "mapping":
        raise _schema(f"top level is a {kind_of(root)}, not a mapping")


def route_nodes(root: Any, routing: RoutingSpec) -> Routed:
    check_root(root)
    return tuple(field_text(field_node(root, field), field) for field in routing.fields)


def pick_or_error(root: Any, routing: RoutingSpec) -> Routed | ParseError:
    """Routed before construction changes the nodes (it flattens merges in place); the
    fault is raised only after construction, whose own faults come first."""
    try:
        return route_nodes(root, routing)
    except ParseError as exc:
        return exc
