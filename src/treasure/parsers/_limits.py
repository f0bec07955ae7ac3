"""Limits for the Python backends, whose libraries enforce none of their own.

PyYAML and ruamel.yaml have no size, depth or alias-expansion limits. A full event walk
before every load would double the cost of the cheap backends, so `precheck` runs a few
byte counts (C speed, well under a microsecond for a 512-byte message) and walks the
events only when a document could be hostile: more aliases than a normal message carries,
or more nesting openers than the depth limit. Block-style nesting needs indentation that
grows with depth, so within `max_bytes` it cannot go much past the limit unnoticed by
the `- ` count; what slips through is caught as RecursionError by the backends.
"""

from __future__ import annotations

import yaml

from treasure.parsers import ErrorCategory, Limits, ParseError

# Normal event messages use a handful of aliases (merge keys); a bomb needs many.
ALIAS_FILTER = 16

_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_encoding(payload: bytes) -> None:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            ErrorCategory.ENCODING, f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
        ) from None


def precheck(payload: bytes, limits: Limits) -> None:
    """Size and encoding always; depth and alias expansion when the bytes look suspicious."""
    if len(payload) > limits.max_bytes:
        raise ParseError(
            ErrorCategory.LIMIT, f"document of {len(payload)} bytes over {limits.max_bytes}"
        )
    check_encoding(payload)
    openers = payload.count(b"[") + payload.count(b"{") + payload.count(b"- ")
    if payload.count(b"*") > ALIAS_FILTER or openers > limits.max_depth:
        walk_limits(payload, limits)


def walk_limits(payload: bytes, limits: Limits) -> None:
    """Walk the parser events, enforcing depth and the alias expansion budget."""
    walker = ExpansionCounter(limits)
    loader = _C_LOADER(payload)
    try:
        while loader.check_event():
            walker.feed(loader.get_event())
    except yaml.YAMLError as exc:
        raise classify_pyyaml(exc) from None
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


def classify_pyyaml(exc: BaseException) -> ParseError:
    """Map PyYAML's and ruamel.yaml's exceptions (same class names) onto the categories."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name == "ConstructorError" and "could not determine a constructor for the tag" in text:
        return ParseError(ErrorCategory.UNSAFE_TAG, text)
    if name == "ReaderError" or isinstance(exc, UnicodeDecodeError):
        return ParseError(ErrorCategory.ENCODING, text)
    if isinstance(exc, RecursionError):
        return ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser's recursion")
    if "exceeded maximum nesting depth" in text:
        return ParseError(ErrorCategory.LIMIT, text)
    if name == "ConstructorError":
        return ParseError(ErrorCategory.SCHEMA, text)
    return ParseError(ErrorCategory.SYNTAX, text)
