"""`ruamel-dom`: ruamel.yaml's safe loader (its C parser when ruamel.yaml.clib is present)."""

from __future__ import annotations

from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from treasure.parsers import BackendKind, Limits, Routed, route_from_document
from treasure.parsers._limits import classify_pyyaml, precheck
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


class RuamelDomBackend:
    name: ClassVar[str] = "ruamel-dom"
    kind: ClassVar[BackendKind] = BackendKind.DOM
    library: ClassVar[str] = "ruamel.yaml"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing
        self.yaml = YAML(typ="safe", pure=False)

    def load(self, payload: bytes) -> Any:
        precheck(payload, self.limits)
        try:
            return self.yaml.load(payload)
        except (YAMLError, RecursionError) as exc:
            raise classify_pyyaml(exc) from None

    def route(self, payload: bytes) -> Routed:
        return route_from_document(self.load(payload), self.routing)
