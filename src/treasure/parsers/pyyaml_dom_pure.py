"""`pyyaml-dom-pure`: PyYAML's pure-Python SafeLoader, the slow baseline of DOM decoding."""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from treasure.parsers.pyyaml_dom import PyYAMLDomBackend


class PyYAMLPureDomBackend(PyYAMLDomBackend):
    name: ClassVar[str] = "pyyaml-dom-pure"
    loader: ClassVar[type[Any]] = yaml.SafeLoader
