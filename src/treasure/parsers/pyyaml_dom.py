"""`pyyaml-dom`: PyYAML's C loader builds the whole tree, then the router picks fields."""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from treasure.parsers import BackendKind, Limits, Routed, route_from_document
from treasure.parsers._limits import classify_pyyaml, precheck
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


class PyYAMLDomBackend:
    """Enforces treasure's size, depth and alias limits in a precheck (PyYAML has none)."""

    name: ClassVar[str] = "pyyaml-dom"
    kind: ClassVar[BackendKind] = BackendKind.DOM
    library: ClassVar[str] = "PyYAML"
    loader: ClassVar[type[Any]] = yaml.CSafeLoader

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing

    def load(self, payload: bytes) -> Any:
        precheck(payload, self.limits)
        try:
            return yaml.load(payload, Loader=self.loader)
        except (yaml.YAMLError, RecursionError) as exc:
            raise classify_pyyaml(exc) from None

    def route(self, payload: bytes) -> Routed:
        return route_from_document(self.load(payload), self.routing)
