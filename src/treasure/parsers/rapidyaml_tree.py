"""`rapidyaml`: rapidyaml (C++, the `contenders` extra) parses each message into a tree and
the routing fields are looked up in it natively, on the messages `_fast_path` proves
simple; `pyyaml-stream` answers the rest, and `fallbacks` counts those messages.

What a user calling rapidyaml directly would get, held to docs/routing.md:
- the parse fills a fresh tree (rapidyaml parses *into* an existing tree, appending to its
  root, so a reused tree would answer the first message's fields forever);
- plain values resolve as YAML 1.1 with PyYAML's own resolver table, so `yes` or a date
  is no string; a `scalar` field holding a null or a timestamp goes to the fallback (it
  names the null; a timestamp's date must be checked);
- a key spelled with escapes is compared by hand (its twin could hide behind them);
- anything rapidyaml refuses, a stream of several documents, a routing value that is a
  collection goes to the fallback, so every fault's category is `pyyaml-stream`'s.

Refusals are silent. rapidyaml's Python binding has no way to set its error callbacks, and
the default ones, compiled in, write each error to C's `stderr` before raising (a callback
must throw a C++ exception, which no Python callable can): the parse runs with that stream
pointed at /dev/null, and the raised error goes to the fallback as before.

Heap: memray sees every allocation (malloc and free, no private arena); RSS stays flat over
10,000 calls. What a message retains at its end (~600 B against ~240 B for `pyrs-yaml`) is
its result plus a few small blocks the binding's calls leave for later calls to free.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any, ClassVar

import ryml  # type: ignore[import-untyped, unused-ignore]

from treasure.parsers import ErrorCategory, ParseError, Routed
from treasure.parsers._fast_path import FastPathRouter, Unsure, plain_tag
from treasure.parsers._yaml11 import STR_TAG
from treasure.routing import FieldKind, RouteField

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_NULL_TAG = "tag:yaml.org,2002:null"
NOT_FOUND = ryml.NONE


def _c_stderr() -> tuple[Any, int | None, int | None]:
    """C's `stderr` pointer, its own value, and a stream on /dev/null (None: left as is)."""
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    pointer = ctypes.c_void_p.in_dll(libc, "stderr")
    return pointer, pointer.value, libc.fopen(os.devnull.encode(), b"w")


_STDERR, _OWN_STDERR, _DEVNULL = _c_stderr()


def parse_quietly(payload: bytes, tree: Any) -> None:
    """rapidyaml's parse, its error printing sent to /dev/null (it raises as before)."""
    if _DEVNULL is None:
        ryml.parse_in_arena(payload, tree=tree)
        return
    _STDERR.value = _DEVNULL
    try:
        ryml.parse_in_arena(payload, tree=tree)
    finally:
        # its value at import, not at entry: overlapping calls never leave /dev/null behind
        _STDERR.value = _OWN_STDERR


class RapidYamlBackend(FastPathRouter):
    name: ClassVar[str] = "rapidyaml"
    library: ClassVar[str] = "rapidyaml"

    def fields(self, payload: bytes, text: str) -> Routed:
        tree = ryml.Tree()
        try:
            parse_quietly(payload, tree)
        except Exception:  # rapidyaml's refusal: the fallback classifies it
            raise Unsure from None
        root = tree.root_id()
        if not tree.is_map(root):
            raise Unsure  # a stream of documents, a list, a scalar: the fallback decides
        escaped = b"\\" in payload
        return tuple(_value(tree, _node(tree, root, f, escaped), f) for f in self.routing.fields)


def _node(tree: Any, root: int, route_field: RouteField, escaped: bool) -> int:
    node = root
    for step in route_field.path:
        if not tree.is_map(node):
            raise Unsure
        key = step.encode()
        node = tree.find_child(node, key)
        if node == NOT_FOUND or (escaped and _keys_spelled(tree, tree.parent(node), key)):
            raise Unsure  # missing (the fallback names it), or escapes hide a twin
    return node


def _value(tree: Any, node: int, route_field: RouteField) -> str:
    if not tree.is_keyval(node):
        raise Unsure  # a collection: the fallback's schema fault names it
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
            ErrorCategory.SCHEMA, f"routing field {route_field.dotted!r} is a {short}, not a string"
        )
    if tag in (_NULL_TAG, _TIMESTAMP_TAG):
        raise Unsure
    return text


def _keys_spelled(tree: Any, mapping: int, step: bytes) -> bool:
    """Whether more than one key of the mapping reads `step` once unescaped."""
    found = 0
    child = tree.first_child(mapping)
    while child != NOT_FOUND:
        found += tree.has_key(child) and bytes(tree.key(child)) == step
        child = tree.next_sibling(child)
    return found > 1
