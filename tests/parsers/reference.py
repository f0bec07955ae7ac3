"""The reference answer of docs/routing.md, written from the page alone.

Built on PyYAML's pure-Python composer (nodes, never constructed values) and sharing no
code with the backends it judges: its own character check, tag rule, merge lookup and
scalar checks. Limits are not modelled: the generated messages stay far inside them.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from treasure.routing import FieldKind, RoutingSpec

STD = "tag:yaml.org,2002:"
_STANDARD = "str int float bool null timestamp binary map seq set omap pairs merge value"
ALLOWED_TAGS = {STD + name for name in _STANDARD.split()} | {"!"}
FORBIDDEN_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


class Outcome(Exception):
    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def answer(payload: bytes, routing: RoutingSpec) -> tuple[str, ...] | str:
    """The routed tuple, or the category of the fault."""
    try:
        return _route(payload, routing)
    except Outcome as outcome:
        return outcome.category


def _route(payload: bytes, routing: RoutingSpec) -> tuple[str, ...]:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Outcome("encoding") from None
    if FORBIDDEN_CHARACTER.search(text):
        raise Outcome("encoding")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise Outcome("syntax") from None
    if root is not None and any(node.tag not in ALLOWED_TAGS for node in _all_nodes(root)):
        raise Outcome("unsafe-tag")
    if not isinstance(root, MappingNode):
        raise Outcome("schema")
    return tuple(_field(root, field.path, field.kind) for field in routing.fields)


def _all_nodes(root: Node) -> list[Node]:
    seen: dict[int, Node] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        if isinstance(node, MappingNode):
            pending += [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            pending += node.value
    return list(seen.values())


def _get(mapping: MappingNode, key: str, depth: int = 0) -> Node | None:
    """Own keys first (twice is a fault), then the merge sources in order."""
    if depth > 50:
        raise Outcome("schema")
    own = [v for k, v in mapping.value
           if isinstance(k, ScalarNode) and k.tag == STD + "str" and k.value == key]  # fmt: skip
    if len(own) > 1:
        raise Outcome("schema")
    if own:
        found: Node = own[0]
        return found
    sources: list[Node] = []
    for k, v in mapping.value:
        if k.tag == STD + "merge":
            sources += v.value if isinstance(v, SequenceNode) else [v]
    if any(not isinstance(source, MappingNode) for source in sources):
        raise Outcome("schema")
    for source in sources:
        assert isinstance(source, MappingNode)
        merged = _get(source, key, depth + 1)
        if merged is not None:
            return merged
    return None


def _field(root: MappingNode, path: tuple[str, ...], kind: FieldKind) -> str:
    node: Node | None = root
    for key in path:
        if not isinstance(node, MappingNode):
            raise Outcome("schema")
        node = _get(node, key)
        if node is None:
            raise Outcome("schema")
    if not isinstance(node, ScalarNode) or node.tag == STD + "null":
        raise Outcome("schema")
    if kind is FieldKind.STRING and node.tag != STD + "str":
        raise Outcome("schema")
    if not _fits(node.tag, node.value):
        raise Outcome("schema")
    return str(node.value)


_INT = re.compile(
    r"[-+]?(0b[01_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)"
)
_BOOL = {"yes", "no", "true", "false", "on", "off"}


def _fits(tag: str, value: str) -> bool:
    """Whether a scalar's content fits its standard tag (YAML 1.1's forms)."""
    short = tag.removeprefix(STD)
    if short in ("str", "value"):
        return True
    if short == "int":
        return bool(_INT.fullmatch(value))
    if short == "bool":
        return value.lower() in _BOOL
    if short == "float":
        return _is_float(value)
    if short == "binary":
        try:
            base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            return False
        return True
    if short == "timestamp":
        return _is_timestamp(value)
    return False  # merge, map, seq... on a scalar: nothing a routing value can hold


def _is_float(value: str) -> bool:
    text = value.replace("_", "").lower()
    if text.lstrip("+-") in (".inf", ".nan"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_timestamp(value: str) -> bool:
    match = re.fullmatch(
        r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):"
        r"([0-9]{2})(?:\.[0-9]*)?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?",
        value,
    )
    if match is None:
        return False
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return match.group(4) is None or (int(match.group(4)) < 24 and int(match.group(5)) < 60)


def is_yaml11_only(value: Any) -> bool:
    """A plain scalar YAML 1.1 and YAML 1.2's core schema type differently."""
    text = str(value)
    return (
        text.lower() in _BOOL | {"y", "n"}
        or "_" in text
        or ":" in text
        or bool(re.fullmatch(r"[-+]?0[0-7]+|0o[0-7]+|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*", text))
    )
