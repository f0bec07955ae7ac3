"""`ruamel-dom`: ruamel.yaml's safe loader (its C parser when ruamel.yaml.clib is present).

Set to YAML 1.1 resolution, as every backend is (docs/routing.md), and to allow duplicate
keys the way YAML 1.1 loaders do: duplicates on routing paths are refused from the nodes.

ruamel.yaml.clib bundles libyaml 0.1.7, whose scanner refuses a ':' inside a plain scalar in
a flow collection (`{sid: 2024-05-01 10:00}`), which later libyaml releases, PyYAML and the
definition accept. Only that refusal sends the message again through ruamel.yaml's own
pure-Python parser, which reads it as the definition does; `reread` counts those messages.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.docinfo import DocInfo, version
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scanner import ScannerError

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


def _loader(*, pure: bool) -> YAML:
    yaml = YAML(typ="safe", pure=pure)
    yaml.version = (1, 1)
    yaml.allow_duplicate_keys = True
    yaml.Constructor = _StrictBinaryConstructor
    return yaml


def _old_flow_colon_refusal(exc: ScannerError) -> bool:
    """The bundled libyaml 0.1.7 refusing ':' in a flow plain scalar (a valid message)."""
    return bool(
        exc.context == "while scanning a plain scalar" and exc.problem == "found unexpected ':'"
    )


def _compose(yaml: YAML, payload: bytes, routing: RoutingSpec | None) -> tuple[Any, Any]:
    # YAML.load appends one DocInfo per call and never drops it: keep one alive instead
    yaml.doc_infos[:] = [DocInfo(requested_version=version(yaml.version))]
    yaml.tags = {}
    constructor, parser = yaml.get_constructor_parser(payload)
    try:
        root = constructor.composer.get_single_node()
        routed = pick_or_error(root, routing) if routing is not None else None
        document = constructor.construct_document(root) if root is not None else None
    finally:
        parser.dispose()
    return document, routed


class RuamelDomBackend:
    name: ClassVar[str] = "ruamel-dom"
    kind: ClassVar[BackendKind] = BackendKind.DOM
    library: ClassVar[str] = "ruamel.yaml"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.yaml = _loader(pure=False)
        self.pure_yaml = _loader(pure=True)
        self.reread = 0

    def _parse(self, payload: bytes, routing: RoutingSpec | None) -> tuple[Any, Any]:
        precheck(payload, self.limits)
        try:
            try:
                return _compose(self.yaml, payload, routing)
            except ScannerError as exc:
                if not _old_flow_colon_refusal(exc):
                    raise
            self.reread += 1
            return _compose(self.pure_yaml, payload, routing)
        except (YAMLError, RecursionError, MemoryError, *CONSTRUCTION_FAULTS) as exc:
            raise classify(exc) from None

    def load(self, payload: bytes) -> Any:
        return self._parse(payload, None)[0]

    def route(self, payload: bytes) -> Routed:
        routed = self._parse(payload, self.routing)[1]
        if isinstance(routed, ParseError):
            raise routed
        return routed  # type: ignore[no-any-return]
