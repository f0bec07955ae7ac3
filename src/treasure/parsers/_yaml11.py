"""What every Python backend shares about YAML itself (docs/routing.md): the one list of
safe tags, the allowed characters, PyYAML loaders whose merge precedence does not depend
on the installed PyYAML, and the mapping of library exceptions onto the categories.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode

from treasure.parsers import ErrorCategory, ParseError

YAML_TAG_PREFIX = "tag:yaml.org,2002:"
STR_TAG = YAML_TAG_PREFIX + "str"
NULL_TAG = YAML_TAG_PREFIX + "null"
MERGE_TAG = YAML_TAG_PREFIX + "merge"
NON_SPECIFIC_TAG = "!"
# The one list: a tag outside it, anywhere in a document, is `unsafe-tag` in every backend.
SAFE_TAGS = frozenset(
    YAML_TAG_PREFIX + name
    for name in (
        "str", "int", "float", "bool", "null", "timestamp", "binary", "map", "seq", "set",
        "omap", "pairs", "merge", "value",
    )
) | {NON_SPECIFIC_TAG}  # fmt: skip

# YAML 1.1's printable set (PyYAML's reader): NUL, the other C0/C1 controls but tab, LF,
# CR and NEL, DEL, surrogates and the two non-characters are not allowed in a stream.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def is_safe_tag(tag: str | None) -> bool:
    return tag is None or tag in SAFE_TAGS


def unsafe_tag_error(tag: str) -> ParseError:
    return ParseError(ErrorCategory.UNSAFE_TAG, f"tag {tag!r} is not allowed")


def decode_text(payload: bytes) -> str:
    """The payload as text, or `encoding` for invalid UTF-8 or a character YAML forbids."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            ErrorCategory.ENCODING, f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
        ) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        raise ParseError(
            ErrorCategory.ENCODING,
            f"character U+{ord(bad.group()):04X} at offset {bad.start()} is not allowed in YAML",
        )
    return text


def strict_binary(text: str) -> bytes:
    """`!!binary` content: base64 and white space only (binascii alone drops other
    characters silently, so `!!binary "@@@"` would be an empty value, not a fault)."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"!!binary content is not base64: {exc}") from None


class FixedMerge:
    """YAML 1.1's merge key whatever PyYAML is installed: in `<<: [*a, *b]` the earlier
    source wins (PyYAML 6.0.4 made the later one win), own keys win over merged ones, and
    several `<<` keys in one mapping act as one list in their written order. `!!binary`
    must be base64 (`strict_binary`)."""

    def flatten_mapping(self, node: MappingNode) -> None:
        sources: list[list[tuple[Any, Any]]] = []
        own = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                sources.extend(self._merge_sources(value_node))
            elif key_node.tag == YAML_TAG_PREFIX + "value":
                key_node.tag = STR_TAG
                own.append((key_node, value_node))
            else:
                own.append((key_node, value_node))
        merged: list[tuple[Any, Any]] = []
        for pairs in reversed(sources):  # later pairs win in construct_mapping
            merged.extend(pairs)
        node.value = merged + own

    def _merge_sources(self, value_node: Any) -> list[list[tuple[Any, Any]]]:
        subnodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for subnode in subnodes:
            if not isinstance(subnode, MappingNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", None,
                    f"expected a mapping to merge, found {subnode.id}", subnode.start_mark,
                )  # fmt: skip
            self.flatten_mapping(subnode)
        return [list(subnode.value) for subnode in subnodes]


class SafeLoader(FixedMerge, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader with the fixed merge rule."""


class CSafeLoader(FixedMerge, yaml.CSafeLoader):
    """PyYAML's libyaml safe loader with the fixed merge rule."""


def _construct_binary(loader: Any, node: Any) -> bytes:
    return strict_binary(loader.construct_scalar(node))


for _loader in (SafeLoader, CSafeLoader):  # constructors are looked up by tag, not method
    _loader.add_constructor(YAML_TAG_PREFIX + "binary", _construct_binary)


_CHECKER = SafeLoader("")


def construct_alone(node: Any) -> Any:
    """Construct one node apart from any document (to prove a routing value fits its tag);
    the constructor's state is reset even when construction fails half-way."""
    try:
        return _CHECKER.construct_document(node)
    finally:
        _CHECKER.constructed_objects = {}
        _CHECKER.recursive_objects = {}
        _CHECKER.state_generators = []


def fastest_loader() -> type[Any]:
    return CSafeLoader if hasattr(yaml, "CSafeLoader") else SafeLoader


_TAG_IN_MESSAGE = re.compile(r"for the tag '([^']*)'")
# What constructing a value that does not fit its tag raises besides the library's errors
# (`2024-02-30`, `0000-00-00 00:00:00`, `? [[a]]`): a `schema` fault of the document.
CONSTRUCTION_FAULTS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


def classify(exc: BaseException) -> ParseError:
    """Map PyYAML's and ruamel.yaml's exceptions (same class names) onto the categories."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name == "ConstructorError" and "could not determine a constructor" in text:
        tag = _TAG_IN_MESSAGE.search(text)
        if tag is None or tag.group(1) not in SAFE_TAGS:
            return ParseError(ErrorCategory.UNSAFE_TAG, text)
        return ParseError(ErrorCategory.SCHEMA, text)  # a standard tag on content it misfits
    if name == "ReaderError" or isinstance(exc, UnicodeError):
        return ParseError(ErrorCategory.ENCODING, text)
    if isinstance(exc, RecursionError | MemoryError):
        return ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser's recursion")
    if "exceeded maximum nesting depth" in text:
        return ParseError(ErrorCategory.LIMIT, text)
    if name == "ConstructorError" or isinstance(exc, CONSTRUCTION_FAULTS):
        return ParseError(ErrorCategory.SCHEMA, f"{name}: {text}")
    return ParseError(ErrorCategory.SYNTAX, text)
