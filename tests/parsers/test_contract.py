"""The contract suite: every registered backend runs `treasure.testing.BackendContract`, the
class a plugin author subclasses, so treasure's backends and a user's meet the same checks.
Below it, what the registry promises plugins written before the routing spec."""

from __future__ import annotations

import subprocess
import sys

import pytest

from treasure.errors import BackendError
from treasure.parsers import Limits, available_names, create
from treasure.routing import RoutingSpec
from treasure.testing import BackendContract

BACKENDS = available_names()

# docs/routing.md's rows for rust-fastyaml, a YAML 1.2 library returning a plain dict
FASTYAML_DIFFERENCES = {"routing key twice": "a routing key written twice: the last one routes"}


class TestEveryRegisteredBackend(BackendContract):
    @pytest.fixture(params=BACKENDS)
    def spec(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    def differences_of(self, spec: str) -> dict[str, str]:
        return FASTYAML_DIFFERENCES if spec == "rust-fastyaml" else {}


def test_every_builtin_backend_is_registered() -> None:
    expected = {"pyyaml-dom", "pyyaml-dom-pure", "ruamel-dom", "pyyaml-stream", "msgspec-typed"}
    assert expected <= set(BACKENDS)


def test_import_treasure_imports_neither_pytest_nor_the_contract() -> None:
    # the contract ships in the package, yet a replay's process must not pay for pytest
    script = (
        "import sys, treasure\nprint(sorted({'pytest', 'treasure.testing'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert done.stdout.decode().strip() == "[]"


class _PluginBeforeTheSpec:
    """A plugin written against the contract before `routing=` existed."""

    name = "old-plugin"
    kind = "plugin"
    library = ""

    def __init__(self, *, limits: Limits) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> object:
        return _OldRecord("e", "p", "s")


class _OldRecord:
    def __init__(self, event_type: str, player_id: str, session_id: str) -> None:
        self.event_type, self.player_id, self.session_id = event_type, player_id, session_id


def test_a_plugin_without_routing_keyword_routes_the_default_spec_as_a_tuple() -> None:
    # given a plugin class whose constructor takes only limits=, when built and routed
    backend = create(f"{__name__}:_PluginBeforeTheSpec")
    # then its three-field record comes back as the contract's tuple
    assert backend.route(b"x: 1\n") == ("e", "p", "s")


def test_a_plugin_without_routing_keyword_refuses_another_spec() -> None:
    # when such a plugin is asked for another spec, then a clear error names the spec
    with pytest.raises(BackendError, match="takes no routing= keyword") as caught:
        create(f"{__name__}:_PluginBeforeTheSpec", routing=RoutingSpec.parse("kind"))
    assert "kind" in str(caught.value)
