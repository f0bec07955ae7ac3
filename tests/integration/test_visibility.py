"""Whether memray can see a backend's native heap, decided from the libraries it loads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from treasure.cli import cli
from treasure.probes.visibility import check

pytestmark = pytest.mark.integration
GT = "tests.groundtruth.native"


def test_a_private_arena_library_is_not_measurable() -> None:
    found = check(f"{GT}:PrivateArena64K")
    assert found["measurable"] is False
    assert "gt_arena" in str(found["how"])
    assert "statically linked allocator" in str(found["how"])


def test_a_library_importing_malloc_is_measurable() -> None:
    found = check(f"{GT}:NativeAlloc64K")
    assert found["measurable"] is True
    assert "gt_alloc" in str(found["how"])


def test_a_declared_blind_spot_says_it_was_declared() -> None:
    found = check(f"{GT}:DeclaredInvisible")
    assert found["measurable"] is False
    assert str(found["how"]).startswith("declared by the backend")


def test_backends_check_heap_names_the_libraries_of_each_backend() -> None:
    done = CliRunner().invoke(cli, ["backends", "--check-heap", "--json"])
    assert done.exit_code == 0, done.output
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["pyyaml-dom"]["heap_measurable"] is True
    assert "_yaml" in rows["pyyaml-dom"]["heap_note"]
    assert "_ruamel_yaml" not in rows["pyyaml-dom"]["heap_note"]  # only its own libraries
