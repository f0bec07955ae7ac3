"""The JSON Schema of a result file, as docs/result-schema.json holds it (`make schema`)."""

from __future__ import annotations

import json

import msgspec

from treasure.results.compare import Result
from treasure.results.run import SCHEMA_VERSION


def json_schema() -> dict[str, object]:
    """JSON Schema of a result file, generated from the result types."""
    schema: dict[str, object] = msgspec.json.schema(Result)
    return schema


def documented_schema() -> dict[str, object]:
    """The schema as docs/result-schema.json holds it: `make schema` writes it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "treasure result",
        "description": (
            f"A result file of schema_version {SCHEMA_VERSION}, written by `treasure replay -o` "
            "(kind: run) or `treasure compare -o` (kind: compare). Figures are integers in ns "
            "or bytes unless a name says otherwise. Generated from treasure.results."
        ),
        **json_schema(),
    }


# Prose keys: their text comes from docstrings and the schema generator's formatting of
# them, which changes between releases (msgspec 0.23 strips docstring indentation).
_PROSE_KEYS = frozenset({"description", "title", "$comment", "examples"})


def schema_shape(schema: object) -> object:
    """What a schema says about the data (types, fields, required), without its prose."""
    if isinstance(schema, dict):
        return {
            key: schema_shape(value)
            for key, value in schema.items()
            if key not in _PROSE_KEYS or not isinstance(value, str)
        }
    if isinstance(schema, list):
        return [schema_shape(item) for item in schema]
    return schema


def schema_text() -> str:
    """docs/result-schema.json's text for the installed dependencies."""
    return json.dumps(documented_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
