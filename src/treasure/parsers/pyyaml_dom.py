"""`pyyaml-dom`: PyYAML's C loader builds the whole tree, then the router picks fields."""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from treasure.parsers import BackendKind, Limits, ParseError, Routed
from treasure.parsers._limits import precheck
from treasure.parsers._nodes import pick_or_error
from treasure.parsers._yaml11 import CONSTRUCTION_FAULTS, CSafeLoader, classify
from treasure.routing import DEFAULT_ROUTING, RoutingSpec


class PyYAMLDomBackend:
    """Enforces treasure's size, depth and alias limits in a precheck (PyYAML has none);
    merges follow YAML 1.1 whatever PyYAML is installed (`_yaml11.FixedMerge`)."""

    name: ClassVar[str] = "pyyaml-dom"
    kind: ClassVar[BackendKind] = BackendKind.DOM
    library: ClassVar[str] = "PyYAML"
    loader: ClassVar[type[Any]] = CSafeLoader

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing

    def pick(self, loader: Any, root: Any) -> Routed | ParseError:
        """The routing answer from the composed nodes, before construction flattens them."""
        return pick_or_error(root, self.routing)

    def _parse(self, payload: bytes, routing: bool) -> tuple[Any, Any]:
        """The whole document constructed, and (when routing) the answer from its nodes."""
        precheck(payload, self.limits)
        loader = self.loader(payload)
        try:
            root = loader.get_single_node()
            routed = self.pick(loader, root) if routing else None
            document = loader.construct_document(root) if root is not None else None
        except (yaml.YAMLError, RecursionError, MemoryError, *CONSTRUCTION_FAULTS) as exc:
            raise classify(exc) from None
        finally:
            loader.dispose()
        return document, routed

    def load(self, payload: bytes) -> Any:
        return self._parse(payload, routing=False)[0]

    def route(self, payload: bytes) -> Routed:
        routed = self._parse(payload, routing=True)[1]
        if isinstance(routed, ParseError):
            raise routed
        return routed  # type: ignore[no-any-return]
