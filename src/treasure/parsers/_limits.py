"""Limits for the Python backends, whose libraries enforce none of their own.

PyYAML and ruamel.yaml have no size, depth or alias-expansion limits. A full event walk
before every load would double the cost of the cheap backends, so `precheck` runs byte
counts that are exact filters (C speed, well under a microsecond for a 512-byte message)
and walks the events only when a limit could be reached:
- alias expansion: a document without `*` holds no alias, so nothing expands; any `*`
  at all means a walk (a 16-alias bomb expands to millions of nodes);
- depth: every collection opens at a `[` or `{`, or at a `-`, `?` or `:` followed by
  white space or a line break, so a document with no more of those than `max_depth` cannot nest
  deeper; more of them means a walk.
"""

from __future__ import annotations

import yaml

from treasure.parsers import ErrorCategory, Limits, ParseError
from treasure.parsers._yaml11 import classify, decode_text

_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BREAKS = (b" ", b"\t", b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())
# What can open a collection: flow openers, and block indicators followed by white space.
_OPENERS = (b"[", b"{", *(mark + white for mark in (b"-", b"?", b":") for white in _BREAKS))


def check_size(payload: bytes, limits: Limits) -> None:
    if len(payload) > limits.max_bytes:
        raise ParseError(
            ErrorCategory.LIMIT, f"document of {len(payload)} bytes over {limits.max_bytes}"
        )


def could_nest_deeper(payload: bytes, limits: Limits) -> bool:
    openers = 3  # a `-`, `?` or `:` ending the payload opens one too
    for mark in (b"[", b"{", b"-", b"?", b":"):  # an upper bound first: five fast counts
        openers += payload.count(mark)
    if openers <= limits.max_depth:
        return False
    openers = 3
    for opener in _OPENERS:
        openers += payload.count(opener)
        if openers > limits.max_depth:
            return True
    return False


def precheck(payload: bytes, limits: Limits) -> str:
    """Size and encoding always; depth and alias expansion whenever they could be reached.
    Returns the payload's text."""
    check_size(payload, limits)
    text = decode_text(payload)
    if b"*" in payload or could_nest_deeper(payload, limits):
        walk_limits(payload, limits)
    return text


def walk_limits(payload: bytes, limits: Limits) -> None:
    """Walk the parser events, enforcing depth and the alias expansion budget."""
    walker = ExpansionCounter(limits)
    loader = _C_LOADER(payload)
    try:
        while loader.check_event():
            walker.feed(loader.get_event())
    except yaml.YAMLError as exc:
        raise classify(exc) from None
    finally:
        loader.dispose()


class ExpansionCounter:
    """Counts the nodes a document expands to when aliases are replaced by their anchors."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stack: list[list[object]] = []  # [anchor, node count] per open collection
        self.anchor_sizes: dict[str, int] = {}
        self.expanded = 0

    def _add(self, size: int) -> None:
        if self.stack:
            count = self.stack[-1][1]
            assert isinstance(count, int)
            self.stack[-1][1] = count + size

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(self.stack) >= self.limits.max_depth:
                raise ParseError(
                    ErrorCategory.LIMIT, f"nesting deeper than {self.limits.max_depth}"
                )
            self.stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = self.stack.pop()
            assert isinstance(size, int)
            if anchor:
                self.anchor_sizes[str(anchor)] = size
            self._add(size)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                self.anchor_sizes[event.anchor] = 1
            self._add(1)
        elif isinstance(event, yaml.AliasEvent):
            size = self.anchor_sizes.get(str(event.anchor), 1)
            self.expanded += size
            if self.expanded > self.limits.max_alias_expansion:
                raise ParseError(
                    ErrorCategory.LIMIT,
                    f"aliases expand to over {self.limits.max_alias_expansion} nodes",
                )
            self._add(size)
