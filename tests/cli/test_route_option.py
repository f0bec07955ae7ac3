"""`--route` end to end: a recording of another schema, routed by the spec given on the
command line or in treasure.toml, the spec and the routed set recorded in each result, and
the gate refusing to compare runs routed by different specs."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from tests.unit.test_gate import SETTINGS, run_of

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.gate import Status, check_regressions, gate_runs
from treasure.generator import generate_recording
from treasure.recordings import open_recording
from treasure.results import CompareResult, ReplayConfig, load
from treasure.routing import DEFAULT_ROUTING, RoutingSpec, configured_routing
from treasure.scenarios import load_scenario

PYTHON_BACKENDS = "pyyaml-dom,pyyaml-stream,msgspec-typed"


@pytest.fixture(scope="module")
def other_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "other.trec"
    generate_recording(load_scenario("other-schema"), path, count=120)
    return path


def test_the_other_schema_scenario_writes_its_fields_and_records_the_spec(
    other_schema: Path,
) -> None:
    with open_recording(other_schema) as reader:
        assert reader.header.metadata["routing"] == "kind,actor.id,sid"
        first = next(iter(reader)).payload
    assert b"\nkind: " in b"\n" + first
    assert b"actor:\n  id: p-" in first
    assert b"event_type" not in first


def _compare(runner: CliRunner, recording: Path, out: Path, *route: str) -> CompareResult:
    done = runner.invoke(
        cli,
        ["compare", str(recording), "-b", PYTHON_BACKENDS, "--no-heap", "--warmup", "0",
         *route, "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    result = load(out)
    assert isinstance(result, CompareResult)
    return result


def test_compare_with_route_routes_every_message_of_another_schema(
    other_schema: Path, tmp_path: Path
) -> None:
    # when the recording is compared with its routing spec
    result = _compare(
        CliRunner(), other_schema, tmp_path / "cmp.json", "--route", "kind,actor.id,sid"
    )
    # then every backend routed every message, the same set, under that spec
    assert {run.backend for run in result.runs} == set(PYTHON_BACKENDS.split(","))
    digests = set()
    for run in result.runs:
        assert run.errors == {}
        assert run.routed_count == run.messages == 120
        assert run.config.routing == "kind,actor.id,sid"
        digests.add(run.routed_digest)
    assert len(digests) == 1


def test_without_route_the_default_spec_finds_no_field(other_schema: Path, tmp_path: Path) -> None:
    result = _compare(CliRunner(), other_schema, tmp_path / "cmp.json")
    for run in result.runs:
        assert run.config.routing == str(DEFAULT_ROUTING)
        assert run.errors == {"schema": 120}
        assert run.routed_count == 0


def test_treasure_toml_routing_fields_apply_when_no_route_is_given(
    other_schema: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a treasure.toml naming the fields
    (tmp_path / "treasure.toml").write_text('[routing]\nfields = ["kind", "actor.id", "sid"]\n')
    monkeypatch.chdir(tmp_path)
    assert configured_routing() == RoutingSpec.parse("kind,actor.id,sid")
    # when compared without --route, then that spec routes every message
    result = _compare(CliRunner(), other_schema, tmp_path / "cmp.json")
    assert all(
        run.errors == {} and run.config.routing == "kind,actor.id,sid" for run in result.runs
    )


@pytest.mark.parametrize(
    ("toml", "problem"),
    [('[routing]\nfields = "kind"\n', "must be a list of strings"),
     ('[routing]\nfields = ["kind", "kind"]\n', "named twice")],
)  # fmt: skip
def test_a_bad_routing_table_is_a_usage_error(
    other_schema: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, problem: str
) -> None:
    (tmp_path / "treasure.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, ["replay", str(other_schema), "-b", "pyyaml-dom"])
    assert done.exit_code == ExitCode.USAGE
    assert problem in done.output
    assert "Traceback" not in done.output


def test_a_bad_route_is_a_usage_error(other_schema: Path) -> None:
    done = CliRunner().invoke(cli, ["replay", str(other_schema), "-b", "pyyaml-dom",
                                    "--route", "kind,,sid"])  # fmt: skip
    assert done.exit_code == ExitCode.USAGE
    assert "--route" in done.output


def test_the_spec_is_stored_spelled_out() -> None:
    default = ReplayConfig(backend="b", recording="r")
    assert default.routing == "event_type,player_id,session_id"
    given = ReplayConfig(backend="b", recording="r", routing=" kind , actor.id:scalar")
    assert given.routing == "kind,actor.id:scalar"
    assert given.routing_spec == RoutingSpec.parse("kind,actor.id:scalar")


def test_the_gate_refuses_a_baseline_routed_by_another_spec() -> None:
    # given a baseline and a run routed by different specs
    current = run_of()
    current = msgspec.structs.replace(
        current, config=msgspec.structs.replace(current.config, routing="kind,actor.id,sid")
    )
    [gate_run] = gate_runs([("run.json", current)])
    # when the regression checks run, then it is an error naming both specs
    [check] = check_regressions([gate_run], [run_of()], SETTINGS)
    assert check.status is Status.ERROR
    assert "kind,actor.id,sid" in check.verdict
    assert "event_type,player_id,session_id" in check.verdict
