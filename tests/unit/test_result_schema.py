"""The result JSON Schema: generated from the result types, kept in docs/, and met by every
result `save` writes.

To regenerate docs/result-schema.json after changing the result types: `make schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import ROOT
from tests.unit.test_html_report import comparison, run_result

from treasure.results import Result, documented_schema, save, schema_shape

SCHEMA_FILE = ROOT / "docs" / "result-schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = documented_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def saved(result: Result, path: Path) -> Any:
    save(result, path)
    return json.loads(path.read_text())


def test_documented_schema_is_up_to_date() -> None:
    # given the schema generated from the result types with the installed msgspec
    generated = documented_schema()
    # when the one in docs/ is read
    documented = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # then they describe the same data: types, fields, required (prose may be formatted
    # differently by another msgspec release inside the declared range)
    assert schema_shape(documented) == schema_shape(generated), (
        "docs/result-schema.json is stale: run `make schema`"
    )


def test_schema_shape_ignores_prose_but_not_fields() -> None:
    # given a schema and two edits of it
    schema = {
        "type": "object",
        "description": "a run",
        "properties": {"title": {"type": "string", "description": "the run's title"}},
        "required": ["title"],
    }
    reworded = {**schema, "description": "  a run,\n  reindented"}
    retyped = {**schema, "properties": {"title": {"type": "integer"}}}
    # then rewording is not a change of shape, a field's type is (and a field named
    # `title` is a field, not prose)
    assert schema_shape(reworded) == schema_shape(schema)
    assert schema_shape(retyped) != schema_shape(schema)
    assert "title" in schema_shape(schema)["properties"]  # type: ignore[index]


def test_saved_run_validates(validator: jsonschema.Draft202012Validator, tmp_path: Path) -> None:
    # given a run with every summary filled in, saved as replay -o saves it
    document = saved(run_result("pyyaml-dom", seed=1, median_ns=170_000), tmp_path / "run.json")
    # when it is checked against the schema
    errors = list(validator.iter_errors(document))
    # then it meets it
    assert errors == []
    assert document["kind"] == "run"


def test_saved_comparison_validates(
    validator: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    # given a comparison with a paced run and a failed backend, saved
    document = saved(comparison(), tmp_path / "cmp.json")
    # when it is checked against the schema
    errors = list(validator.iter_errors(document))
    # then it meets it
    assert errors == []
    assert document["kind"] == "compare"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda doc: doc.pop("backend"), "a required field is missing"),
        (lambda doc: doc.update(messages="many"), "a count is not an integer"),
        (lambda doc: doc.update(kind="trace"), "the kind is unknown"),
        (lambda doc: doc["latency"].update(percentile_curve=[[50.0]]), "a pair is short"),
    ],
)
def test_schema_rejects_a_broken_result(
    validator: jsonschema.Draft202012Validator,
    tmp_path: Path,
    change: Any,
    why: str,
) -> None:
    # given a saved run, broken on purpose
    document = saved(run_result("pyyaml-dom", seed=2, median_ns=170_000), tmp_path / "run.json")
    change(document)
    # when it is checked against the schema
    # then it fails
    assert not validator.is_valid(document), why
