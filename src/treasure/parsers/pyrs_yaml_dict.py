"""`pyrs-yaml`: pyrs-yaml (Rust, PyPI; the `contenders` extra) loads the whole document into
dicts, and the routing fields are picked from them on the messages `_fast_path` proves
simple; `pyyaml-stream` answers the rest (docs/routing.md's answer whatever pyrs-yaml, a
YAML 1.2 library that drops tags and keeps only a stream's last document, would say).

Its own limits stay on behind treasure's: `max_depth` is passed as its `max_depth`.
Duplicate keys are allowed as the definition allows them (outside routing paths; a routing
key written twice never reaches the fast path).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyrs_yaml  # type: ignore[import-untyped, unused-ignore]

from treasure.parsers._fast_path import DictFastPath


class PyrsYamlBackend(DictFastPath):
    name: ClassVar[str] = "pyrs-yaml"
    library: ClassVar[str] = "pyrs-yaml"

    def load_text(self, text: str) -> Any:
        return pyrs_yaml.safe_load(text, max_depth=self.limits.max_depth, allow_duplicate_keys=True)
