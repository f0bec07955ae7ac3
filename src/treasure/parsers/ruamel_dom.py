"""`ruamel-dom`: ruamel.yaml's safe loader (its C parser when ruamel.yaml.clib is present).

Set to YAML 1.1 resolution, as every backend is (docs/routing.md), and to allow duplicate
keys the way YAML 1.1 loaders do: duplicates on routing paths are refused from the nodes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.docinfo import DocInfo, version
from ruamel.yaml.error import YAMLError

from treasure.parsers import BackendKind, Limits, ParseError, Routed
from treasure.parsers._limits import precheck
from treasure.parsers._nodes import pick_or_error
from treasure.parsers._yaml11 import CONSTRUCTION_FAULTS, YAML_TAG_PREFIX, classify, strict_binary
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


class _StrictBinaryConstructor(SafeConstructor):
    """ruamel.yaml's safe constructor, refusing `!!binary` that is not base64."""


def _construct_binary(constructor: Any, node: Any) -> bytes:
    return strict_binary(constructor.construct_scalar(node))


_StrictBinaryConstructor.add_constructor(YAML_TAG_PREFIX + "binary", _construct_binary)


class RuamelDomBackend:
    name: ClassVar[str] = "ruamel-dom"
    kind: ClassVar[BackendKind] = BackendKind.DOM
    library: ClassVar[str] = "ruamel.yaml"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.yaml = YAML(typ="safe", pure=False)
        self.yaml.version = (1, 1)
        self.yaml.allow_duplicate_keys = True
        self.yaml.Constructor = _StrictBinaryConstructor

    def _parse(self, payload: bytes, routing: RoutingSpec | None) -> tuple[Any, Any]:
        precheck(payload, self.limits)
        # YAML.load appends one DocInfo per call and never drops it: keep one alive instead
        self.yaml.doc_infos[:] = [DocInfo(requested_version=version(self.yaml.version))]
        self.yaml.tags = {}
        try:
            constructor, parser = self.yaml.get_constructor_parser(payload)
            try:
                root = constructor.composer.get_single_node()
                routed = pick_or_error(root, routing) if routing is not None else None
                document = constructor.construct_document(root) if root is not None else None
            finally:
                parser.dispose()
        except (YAMLError, RecursionError, MemoryError, *CONSTRUCTION_FAULTS) as exc:
            raise classify(exc) from None
        return document, routed

    def load(self, payload: bytes) -> Any:
        return self._parse(payload, None)[0]

    def route(self, payload: bytes) -> Routed:
        routed = self._parse(payload, self.routing)[1]
        if isinstance(routed, ParseError):
            raise routed
        return routed  # type: ignore[no-any-return]
