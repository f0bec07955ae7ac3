"""What the contender backends share: the library finds the routing fields only on messages
a few byte counts prove simple, and only keeps an answer it can be sure of; `pyyaml-stream`
answers every other message (`fallbacks` counts them), so every fault's category, and every
limit, is `pyyaml-stream`'s — what docs/routing.md defines, whatever the library's own
YAML version or leniency.

Simple means: no alias (`*`), merge key (`<<`) or tag (`!` where it could start one), no
nesting that could reach `max_depth`, and each routing key's text written exactly once (so
no duplicate can hide, unless behind an escape, which each backend handles). A value is kept
only when YAML 1.1 (PyYAML's resolver table) would read it as the library does: a YAML 1.2
library's `yes` or `0o17` goes to the fallback.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml
from yaml.nodes import ScalarNode

from treasure.parsers import BackendKind, Limits, Routed
from treasure.parsers._limits import check_size, could_nest_deeper
from treasure.parsers._yaml11 import STR_TAG, decode_text
from treasure.parsers.pyyaml_stream import PyYAMLStreamBackend
from treasure.routing import DEFAULT_ROUTING, FieldKind, RouteField, RoutingSpec

TAG_START = re.compile(rb"(?:^|[\s\[\]{},])!", re.MULTILINE)
# `---`, `...` or a directive: maybe several documents, which some libraries merge or drop
DOCUMENT_MARKS = re.compile(rb"^(?:---|\.\.\.)(?:[ \t\r\n]|$)|^%", re.MULTILINE)
_RESOLVER = yaml.resolver.Resolver()
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers


class Unsure(Exception):
    """The fast path cannot answer this message for certain: the fallback will."""


def plain_tag(text: str) -> str:
    """The tag YAML 1.1 (PyYAML's table) gives a plain scalar."""
    if text and text[0] not in _IMPLICIT:
        return STR_TAG  # no resolver starts with this character: a string
    return str(_RESOLVER.resolve(ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


class FastPathRouter:
    """A library's fast path on simple messages, `pyyaml-stream` for the rest."""

    name: ClassVar[str]
    kind: ClassVar[BackendKind] = BackendKind.CONTENDER
    library: ClassVar[str]

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.fallbacks = 0
        self._full = PyYAMLStreamBackend(limits=limits, routing=routing)
        self._keys = {step.encode() for f in routing.fields for step in f.path}
        # a step a plain key could not spell as a string (`on`): every message falls back
        self._spellable = all(plain_tag(s) == STR_TAG for f in routing.fields for s in f.path)

    def route(self, payload: bytes) -> Routed:
        check_size(payload, self.limits)
        text = decode_text(payload)  # `encoding` before anything the library might say
        if self._simple(payload):
            try:
                return self.fields(payload, text)
            except Unsure:
                pass
        self.fallbacks += 1
        return self._full.route(payload)

    def _simple(self, payload: bytes) -> bool:
        return not (
            not self._spellable
            or b"*" in payload
            or b"<<" in payload
            or (b"!" in payload and TAG_START.search(payload))
            or could_nest_deeper(payload, self.limits)
            or any(payload.count(key) != 1 for key in self._keys)
        )

    def fields(self, payload: bytes, text: str) -> Routed:
        """The routing fields by the library, or Unsure."""
        raise NotImplementedError


class DictFastPath(FastPathRouter):
    """A library that loads the whole document into dicts (its values already typed)."""

    def load_text(self, text: str) -> Any:
        raise NotImplementedError

    def fields(self, payload: bytes, text: str) -> Routed:
        if b"\\" in payload or DOCUMENT_MARKS.search(payload):
            raise Unsure  # an escaped twin of a routing key; several documents
        try:
            document = self.load_text(text)
        except Exception:  # the library's refusal: the fallback classifies it
            raise Unsure from None
        return tuple(_certain_text(_walk(document, f), f) for f in self.routing.fields)


def _walk(document: Any, route_field: RouteField) -> Any:
    node = document
    for step in route_field.path:
        if not isinstance(node, dict) or step not in node:
            raise Unsure  # the fallback names what is missing or not a mapping
        node = node[step]
    return node


def _certain_text(value: Any, route_field: RouteField) -> str:
    """A string YAML 1.1 would read as the library did (quoted or plain, the same)."""
    if isinstance(value, str) and plain_tag(value) == STR_TAG:
        return value
    raise Unsure  # another type, or a text YAML 1.1 might type (`yes`): the fallback decides


__all__ = ["DictFastPath", "FastPathRouter", "FieldKind", "Unsure", "plain_tag"]
