"""`msgspec-typed`: the routing fields converted into a msgspec Struct built from the spec.

Labelled for what it is: msgspec's YAML support is PyYAML's C loader plus a conversion,
so the whole tree is still built. Here the loader is treasure's (the same C loader with
the YAML 1.1 merge rule, as `pyyaml-dom`), and msgspec converts the routing fields into a
Struct built once per spec, nested paths as nested Structs (`actor.id` gives an `actor`
field holding a Struct with an `id` field): msgspec's typed validation decides.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

import msgspec
import yaml

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._nodes import check_root, field_node, field_text
from treasure.parsers._yaml11 import CONSTRUCTION_FAULTS, classify, construct_alone
from treasure.parsers.pyyaml_dom import PyYAMLDomBackend
from treasure.routing import DEFAULT_ROUTING, FieldKind, RoutingSpec

# A `scalar` field holds the characters written: a string once converted.
_KIND_TYPES: dict[FieldKind, type] = {FieldKind.STRING: str, FieldKind.SCALAR: str}


def _attr(index: int) -> str:
    return f"f{index}"  # YAML keys need not be identifiers: renamed onto them


def _struct_for(
    tree: dict[str, Any], name: str, kind_types: dict[FieldKind, Any]
) -> type[msgspec.Struct]:
    """A Struct whose fields are the tree's keys: a leaf's type or a nested tree."""
    fields: list[tuple[str, Any]] = []
    rename: dict[str, str] = {}
    for index, (key, leaf) in enumerate(tree.items()):
        rename[_attr(index)] = key
        nested = isinstance(leaf, dict)
        leaf_type = _struct_for(leaf, f"{name}_{index}", kind_types) if nested else kind_types[leaf]
        fields.append((_attr(index), leaf_type))
    return msgspec.defstruct(name, fields, rename=rename)


def schema_for(
    routing: RoutingSpec, kind_types: dict[FieldKind, Any] = _KIND_TYPES
) -> tuple[type[msgspec.Struct], list[tuple[str, ...]]]:
    """The Struct for a spec (each field kind's type from `kind_types`), and each field's
    attribute path through it."""
    tree: dict[str, Any] = {}
    attr_paths: list[tuple[str, ...]] = []
    for route_field in routing.fields:
        node = tree
        attrs = []
        for step in route_field.path[:-1]:
            attrs.append(_attr(list(node).index(step) if step in node else len(node)))
            node = node.setdefault(step, {})
        attrs.append(_attr(len(node)))
        node[route_field.path[-1]] = route_field.kind
        attr_paths.append(tuple(attrs))
    return _struct_for(tree, "EventMessage", kind_types), attr_paths


class MsgspecTypedBackend(PyYAMLDomBackend):
    name: ClassVar[str] = "msgspec-typed"
    kind: ClassVar[BackendKind] = BackendKind.TYPED
    library: ClassVar[str] = "msgspec"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits, routing=routing)
        self.schema, self._attr_paths = schema_for(routing)

    def pick(self, loader: Any, root: Any) -> Routed | ParseError:
        """The routing fields' values, as the loader constructs them, into the Struct."""
        try:
            check_root(root)
            record: dict[str, Any] = {}
            for route_field in self.routing.fields:
                node = field_node(root, route_field)
                if route_field.kind is FieldKind.SCALAR:
                    value: Any = field_text(node, route_field)  # the characters written
                else:
                    value = construct_alone(node)  # the loader's own state stays clean
                _place(record, route_field.path, value)
            message = msgspec.convert(
                record, self.schema, builtin_types=(datetime.datetime, datetime.date)
            )
        except ParseError as exc:
            return exc
        except msgspec.ValidationError as exc:
            return ParseError(ErrorCategory.SCHEMA, str(exc))
        except (yaml.YAMLError, *CONSTRUCTION_FAULTS) as exc:
            return classify(exc)
        return tuple(_read(message, attrs) for attrs in self._attr_paths)


def _place(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for step in path[:-1]:
        record = record.setdefault(step, {})
    record[path[-1]] = value


def _read(message: msgspec.Struct, attrs: tuple[str, ...]) -> str:
    return str(read_attrs(message, attrs))


def read_attrs(message: msgspec.Struct, attrs: tuple[str, ...]) -> Any:
    """The value at an attribute path through nested Structs."""
    value: Any = message
    for attr in attrs:
        value = getattr(value, attr)
    return value
