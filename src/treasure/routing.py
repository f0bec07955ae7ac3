"""The routing spec: which fields a router needs from a message (docs/routing.md).

A spec is an ordered tuple of fields, each a dotted path of keys from the top-level mapping
and the kind of value it must hold. Backends receive it at construction (`routing=`) and
`route()` returns the fields' strings in the spec's order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class FieldKind(StrEnum):
    STRING = "string"  # a scalar that resolves to a string (YAML 1.1)
    SCALAR = "scalar"  # any non-null scalar, taken as its text


@dataclass(frozen=True)
class RouteField:
    path: tuple[str, ...]
    kind: FieldKind = FieldKind.STRING

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    def __str__(self) -> str:
        suffix = "" if self.kind is FieldKind.STRING else f":{self.kind.value}"
        return self.dotted + suffix


@dataclass(frozen=True)
class RoutingSpec:
    fields: tuple[RouteField, ...]

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("a routing spec needs at least one field")
        dotted = [field.dotted for field in self.fields]
        if len(set(dotted)) != len(dotted):
            raise ValueError(f"a routing field is named twice: {','.join(dotted)}")
        paths = {field.path for field in self.fields}
        for field in self.fields:
            for depth in range(1, len(field.path)):
                if field.path[:depth] in paths:
                    prefix = ".".join(field.path[:depth])
                    raise ValueError(f"{prefix!r} is a field and the mapping of {field.dotted!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.dotted for field in self.fields)

    def __str__(self) -> str:
        return ",".join(str(field) for field in self.fields)

    @classmethod
    def parse(cls, text: str) -> RoutingSpec:
        """`type,user.id,meta.session:scalar` → a spec; ValueError says what is wrong."""
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise ValueError(f"empty field in routing spec {text!r}")
        return cls(tuple(_parse_field(item) for item in items))

    @classmethod
    def from_list(cls, fields: list[str]) -> RoutingSpec:
        """The `[routing] fields = [...]` form of a config file."""
        return cls.parse(",".join(fields))


def _parse_field(item: str) -> RouteField:
    path_text, _, kind_text = item.partition(":")
    try:
        kind = FieldKind(kind_text) if kind_text else FieldKind.STRING
    except ValueError:
        kinds = ", ".join(k.value for k in FieldKind)
        raise ValueError(f"unknown kind {kind_text!r} in {item!r} (kinds: {kinds})") from None
    path = tuple(path_text.split("."))
    if any(not step or step != step.strip() for step in path):
        raise ValueError(f"bad field path {path_text!r}: empty or padded key")
    return RouteField(path, kind)


DEFAULT_ROUTING = RoutingSpec.parse("event_type,player_id,session_id")


def configured_routing(directory: Path | None = None) -> RoutingSpec | None:
    """`[routing] fields = [...]` of `treasure.toml`, else `[tool.treasure.routing]` of
    `pyproject.toml`, in `directory` (default: the working directory); None when neither
    says. ValueError names the file and what is wrong."""
    directory = directory or Path.cwd()
    for name, keys in (("treasure.toml", ()), ("pyproject.toml", ("tool", "treasure"))):
        path = directory / name
        if not path.is_file():
            continue
        try:
            table: object = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the routing spec: {exc}") from None
        for key in (*keys, "routing"):
            table = table.get(key) if isinstance(table, dict) else None
        if table is None:
            continue
        fields = table.get("fields") if isinstance(table, dict) else None
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValueError(f"{path}: [routing] fields must be a list of strings")
        try:
            return RoutingSpec.from_list(fields)
        except ValueError as exc:
            raise ValueError(f"{path}: [routing] fields: {exc}") from None
    return None
