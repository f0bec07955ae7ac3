"""`pyyaml-dom-pure`: PyYAML's pure-Python SafeLoader, the slow baseline of DOM decoding."""

from __future__ import annotations

from typing import Any, ClassVar

from treasure.parsers._yaml11 import SafeLoader
from treasure.parsers.pyyaml_dom import PyYAMLDomBackend


class PyYAMLPureDomBackend(PyYAMLDomBackend):
    name: ClassVar[str] = "pyyaml-dom-pure"
    loader: ClassVar[type[Any]] = SafeLoader
