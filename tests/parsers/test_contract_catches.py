"""`BackendContract` fails a backend that breaks the contract: a user's test module holding
deliberately broken backends is run by pytest in a fresh process, and its report read."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

USER_TESTS = """
import yaml

from treasure.parsers import Limits
from treasure.parsers.pyyaml_dom import PyYAMLDomBackend
from treasure.testing import BackendContract


class WrongType(PyYAMLDomBackend):
    name = "wrong-type"

    def route(self, payload):
        return list(super().route(payload))


class ExecutesTags(PyYAMLDomBackend):
    name = "executes-tags"

    def route(self, payload):
        try:
            yaml.unsafe_load(payload)  # constructs every tag, Python ones included
        except Exception:
            pass
        return super().route(payload)


UNLIMITED = Limits(max_bytes=1 << 40, max_depth=1 << 20, max_alias_expansion=1 << 40)


class IgnoresLimits(PyYAMLDomBackend):
    name = "ignores-limits"

    def __init__(self, *, limits, routing):
        super().__init__(limits=UNLIMITED, routing=routing)


class TestSound(BackendContract):
    backend = PyYAMLDomBackend


class TestWrongType(BackendContract):
    backend = WrongType


class TestExecutesTags(BackendContract):
    backend = ExecutesTags


class TestIgnoresLimits(BackendContract):
    backend = IgnoresLimits
"""

VALID = [
    "event message", "quoted values, fields out of order", "document markers",
    "fields from a merge key", "flow mapping", "alias as a value", "block scalar", "comments",
    "explicit string tag", "escapes",
]  # fmt: skip
# What each broken backend must fail at least (others may fail as a consequence).
MUST_FAIL = {
    "TestWrongType": {f"test_routes_every_kind_of_valid_message[{case}]" for case in VALID},
    "TestExecutesTags": {
        f"test_a_python_tag_is_never_executed[{where}]"
        for where in ("document", "routing value", "nested value")
    },
    "TestIgnoresLimits": {
        "test_max_bytes_is_exact",
        "test_max_depth_is_exact[flow]",
        "test_max_depth_is_exact[block]",
        "test_max_alias_expansion_is_exact",
        "test_bad_input_is_classified[oversized]",
        "test_a_bomb_is_refused_in_bounded_memory[sixteen-alias bomb]",
    },
}


def outcomes(report: Path) -> dict[str, dict[str, str]]:
    """Test class -> test name -> passed, failed, error or skipped, from a JUnit report."""
    found: dict[str, dict[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        verdicts = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        verdict = {"failure": "failed"}.get(verdicts[0], verdicts[0]) if verdicts else "passed"
        found.setdefault(case.get("classname", "").rpartition(".")[2], {})[case.get("name", "")] = (
            verdict
        )
    return found


def test_the_contract_fails_broken_backends_and_passes_a_sound_one(tmp_path: Path) -> None:
    # given a user's test module subclassing BackendContract, outside this repository
    (tmp_path / "test_user_backends.py").write_text(USER_TESTS, encoding="utf-8")
    # when pytest runs it (bombs, a fresh process each, only where limits are broken)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_user_backends.py", "-q", "-p", "no:randomly",
         "-p", "no:cacheprovider", "--junitxml=report.xml", "-k", "not bomb or IgnoresLimits"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    # then it fails, and the report names each broken backend's failures
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    found = outcomes(tmp_path / "report.xml")
    assert set(found) == {"TestSound", *MUST_FAIL}
    sound = found["TestSound"]
    assert len(sound) > 50
    assert set(sound.values()) == {"passed"}
    for broken, must_fail in MUST_FAIL.items():
        failed = {name for name, verdict in found[broken].items() if verdict == "failed"}
        assert must_fail <= failed, f"{broken} not failed: {sorted(must_fail - failed)}"
        # a failure is the broken rule's, not a harness error: what it keeps still passes
        assert found[broken]["test_declares_name_kind_and_library"] == "passed"
