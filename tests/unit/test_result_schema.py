"""The result JSON Schema: generated from the result types, kept in docs/, and met by every
result `save` writes.

To regenerate docs/result-schema.json after changing the result types:
    TREASURE_UPDATE_SCHEMA=1 .venv/bin/pytest tests/unit/test_result_schema.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import ROOT
from tests.unit.test_html_report import comparison, run_result

from treasure.results import SCHEMA_VERSION, Result, json_schema, save

SCHEMA_FILE = ROOT / "docs" / "result-schema.json"


def documented_schema() -> dict[str, Any]:
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


def schema_text() -> str:
    return json.dumps(documented_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = documented_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def saved(result: Result, path: Path) -> Any:
    save(result, path)
    return json.loads(path.read_text())


def test_documented_schema_is_up_to_date() -> None:
    # given the schema generated from the result types
    expected = schema_text()
    if os.environ.get("TREASURE_UPDATE_SCHEMA"):
        SCHEMA_FILE.write_text(expected, encoding="utf-8")
    # when the one in docs/ is read
    documented = SCHEMA_FILE.read_text(encoding="utf-8")
    # then they are the same
    assert documented == expected, (
        "docs/result-schema.json is stale: TREASURE_UPDATE_SCHEMA=1 "
        ".venv/bin/pytest tests/unit/test_result_schema.py"
    )


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
