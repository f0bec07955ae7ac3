"""`msgspec-json`: messages that are JSON, decoded by msgspec.json straight into a Struct
built from the routing spec — the typed, no-tree path a team reaches by changing the
format (the YAML typed backend, `msgspec-typed`, still builds PyYAML's tree).

Its payloads are JSON (RFC 8259), so docs/routing.md applies with JSON's rules: JSON that
is malformed anywhere (a skipped value included, trailing data, a raw control character
in a string) is `syntax`; invalid UTF-8 is `encoding`; a top level that is no object, a
missing field or a `string` field holding another JSON type is `schema`. A `scalar` field
takes the characters written (`1.50` routes `"1.50"`, `true` routes `"true"`); null is
`schema`. A routing key written twice in one object is `schema` (msgspec would let the
last one win, so a message where the key's text occurs twice, or could be escaped, is
checked once more with the standard library's decoder). A leading BOM is allowed.

Limits: `max_bytes` before decoding; `max_depth` counted exactly (strings skipped) when the
brackets alone could reach it; msgspec's own recursion limit is `limit` too. JSON has no
aliases, so `max_alias_expansion` has nothing to count.
"""

from __future__ import annotations

import json
import re
from operator import attrgetter
from typing import Any, ClassVar

import msgspec

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, Routed
from treasure.parsers._limits import check_size
from treasure.parsers.msgspec_typed import schema_for
from treasure.routing import DEFAULT_ROUTING, FieldKind, RouteField, RoutingSpec

BOM = b"\xef\xbb\xbf"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
# A `scalar` field is taken raw: its characters as written.
_JSON_KINDS: dict[FieldKind, Any] = {FieldKind.STRING: str, FieldKind.SCALAR: msgspec.Raw}


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its written pairs, duplicates kept (arrays stay plain lists)."""


def json_depth(payload: bytes) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", payload)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def scalar_text(raw: bytes, route_field: RouteField) -> str:
    if raw.startswith(b'"'):
        return str(msgspec.json.decode(raw, type=str))
    if raw == b"null" or raw[:1] in (b"[", b"{"):
        kind = "null" if raw == b"null" else "a list" if raw[:1] == b"[" else "an object"
        raise ParseError(ErrorCategory.SCHEMA, f"routing field {route_field.dotted!r} is {kind}")
    return raw.decode("utf-8")


class MsgspecJsonBackend:
    name: ClassVar[str] = "msgspec-json"
    kind: ClassVar[BackendKind] = BackendKind.TYPED
    library: ClassVar[str] = "msgspec"
    payload_format: ClassVar[str] = "json"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        schema, attr_paths = schema_for(routing, _JSON_KINDS)
        self._decoder = msgspec.json.Decoder(schema)
        getter = attrgetter(*(".".join(attrs) for attrs in attr_paths))
        self._fields: Any = getter if len(attr_paths) > 1 else lambda m: (getter(m),)
        self._scalars = [
            index for index, f in enumerate(routing.fields) if f.kind is FieldKind.SCALAR
        ]
        self._quoted_keys = {b'"' + step.encode() + b'"' for f in routing.fields for step in f.path}

    def route(self, payload: bytes) -> Routed:
        check_size(payload, self.limits)
        if payload.startswith(BOM):
            payload = payload[len(BOM) :]
        if payload.count(b"[") + payload.count(b"{") > self.limits.max_depth:
            depth = json_depth(payload)
            if depth > self.limits.max_depth:
                raise ParseError(
                    ErrorCategory.LIMIT, f"nesting deeper than {self.limits.max_depth}"
                )
        message = self._decode(payload)
        if b"\\" in payload or any(payload.count(key) > 1 for key in self._quoted_keys):
            self._refuse_duplicates(payload)
        values = self._fields(message)
        if not self._scalars:
            return values  # type: ignore[no-any-return]
        texts = list(values)
        for index in self._scalars:
            texts[index] = scalar_text(bytes(texts[index]), self.routing.fields[index])
        return tuple(texts)

    def _decode(self, payload: bytes) -> Any:
        try:
            return self._decoder.decode(payload)
        except msgspec.ValidationError as exc:
            raise ParseError(ErrorCategory.SCHEMA, str(exc)) from None
        except msgspec.DecodeError as exc:
            category = ErrorCategory.ENCODING if "UTF-8" in str(exc) else ErrorCategory.SYNTAX
            raise ParseError(category, str(exc)) from None
        except RecursionError:
            raise ParseError(ErrorCategory.LIMIT, "nesting too deep for msgspec") from None

    def _refuse_duplicates(self, payload: bytes) -> None:
        """`schema` for a routing key written twice in an object on a routing path."""
        node: Any
        document = json.loads(payload, object_pairs_hook=_Pairs)
        for route_field in self.routing.fields:
            node = document
            for step in route_field.path:
                values = [value for key, value in node if key == step]
                if len(values) > 1:
                    raise ParseError(ErrorCategory.SCHEMA, f"duplicate routing key {step!r}")
                node = values[0]  # the decode proved every step is there, in objects
