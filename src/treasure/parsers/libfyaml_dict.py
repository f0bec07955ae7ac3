"""`libfyaml`: libfyaml (C, its Python binding on PyPI; the `contenders` extra) loads the
document, converted to dicts, and the routing fields are picked from them on the messages
`_fast_path` proves simple; `pyyaml-stream` answers the rest (docs/routing.md's answer
whatever libfyaml, a YAML 1.2 library that reads only a stream's first document and takes
a NUL in a scalar, would say). libfyaml writes each refused message's error to stderr.
"""

from __future__ import annotations

from typing import Any, ClassVar

import libfyaml  # type: ignore[import-untyped, unused-ignore]

from treasure.parsers._fast_path import DictFastPath


class LibfyamlBackend(DictFastPath):
    name: ClassVar[str] = "libfyaml"
    library: ClassVar[str] = "libfyaml"

    def load_text(self, text: str) -> Any:
        return libfyaml.loads(text).to_python()
