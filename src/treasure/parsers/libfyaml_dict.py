"""`libfyaml`: libfyaml (C, its Python binding on PyPI; the `contenders` extra) loads the
document, converted to dicts, and the routing fields are picked from them on the messages
`_fast_path` proves simple; `pyyaml-stream` answers the rest (docs/routing.md's answer
whatever libfyaml, a YAML 1.2 library that reads only a stream's first document and takes
a NUL in a scalar, would say).

Refusals are silent: libfyaml prints each parse error to stderr unless its diagnostics are
collected (`collect_diag`), and then a refused message loads as the list of its errors,
which is no mapping, so the fallback classifies it as for any other refusal.

Its heap cannot be measured (`HEAP_NOT_MEASURABLE`): each load maps two 64 KiB blocks and
shrinks them with `mremap` before unmapping 4 KiB of each; memray hooks mmap and munmap but
not mremap, so it counts 120 KiB a message as never freed while RSS does not move.
"""

from __future__ import annotations

from typing import Any, ClassVar

import libfyaml  # type: ignore[import-untyped, unused-ignore]

from treasure.parsers._fast_path import DictFastPath


class LibfyamlBackend(DictFastPath):
    name: ClassVar[str] = "libfyaml"
    library: ClassVar[str] = "libfyaml"

    def load_text(self, text: str) -> Any:
        # a refusal comes back as a sequence of error mappings, never as a document's
        # root mapping: `_walk` hands it to the fallback
        return libfyaml.loads(text, collect_diag=True).to_python()
