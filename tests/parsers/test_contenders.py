"""The contenders (the `contenders` extra): registered like every backend, listed with
the install command when missing, and each answering what docs/routing.md says, the
fallback counted where the library alone cannot be sure."""

from __future__ import annotations

import sys

import pytest

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, create, discover
from treasure.routing import RoutingSpec

pytest.importorskip("ryml", reason="the contenders extra: pip install '.[contenders]'")

# backend -> (its module, the module of the library it needs)
CONTENDERS = {
    "rapidyaml": ("rapidyaml_tree", "ryml"),
    "pyrs-yaml": ("pyrs_yaml_dict", "pyrs_yaml"),
    "libfyaml": ("libfyaml_dict", "libfyaml"),
}
IDS = b"event_type: login\nplayer_id: p-1\nsession_id: s-1\n"


def outcome(backend: object, payload: bytes) -> object:
    try:
        return backend.route(payload)  # type: ignore[attr-defined]
    except ParseError as exc:
        return exc.category


@pytest.mark.parametrize("name", CONTENDERS)
def test_registered_as_a_contender(name: str) -> None:
    info = discover()[name]
    assert (info.available, info.kind, info.library) == (True, BackendKind.CONTENDER, name)


@pytest.mark.parametrize(("name", "modules"), CONTENDERS.items())
def test_a_missing_library_is_listed_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch, name: str, modules: tuple[str, str]
) -> None:
    # given the library cannot be imported (None in sys.modules stops the import)
    backend_module, library_module = modules
    monkeypatch.setitem(sys.modules, library_module, None)
    monkeypatch.delitem(sys.modules, f"treasure.parsers.{backend_module}", raising=False)
    # when the backends are discovered, then it is unavailable and says how to install it
    info = discover()[name]
    assert not info.available
    assert library_module in info.problem
    assert "treasure[contenders]" in info.install_hint


@pytest.mark.parametrize("name", CONTENDERS)
def test_every_message_is_read_afresh(name: str) -> None:
    # rapidyaml parses into an existing tree by appending to its root: a reused tree would
    # keep answering the first message's fields
    backend = create(name, Limits())
    assert backend.route(IDS) == ("login", "p-1", "s-1")
    assert backend.route(IDS.replace(b"p-1", b"p-2")) == ("login", "p-2", "s-1")
    assert backend.fallbacks == 0  # type: ignore[attr-defined]


ANSWERS = [
    (b"session_id: 's-1'\nplayer_id: \"p-\\x31\"\nevent_type: |\n  login\n",
     ("login\n", "p-1", "s-1")),
    (IDS.replace(b"p-1", b"yes"), ErrorCategory.SCHEMA),  # a YAML 1.1 boolean
    (IDS.replace(b"p-1", b"'yes'"), ("login", "yes", "s-1")),
    (IDS.replace(b"p-1", b"0o17"), ("login", "0o17", "s-1")),  # YAML 1.2's octal: 1.1's string
    (IDS.replace(b"s-1", b"2024-05-01 10:00"), ("login", "p-1", "2024-05-01 10:00")),
    (b"p: &p p-1\n" + IDS.replace(b"p-1", b"*p"), ("login", "p-1", "s-1")),
    (b"a: &a {player_id: p-a}\n<<: *a\nevent_type: e\nsession_id: s\n", ("e", "p-a", "s")),
    (IDS + b"player_id: p-2\n", ErrorCategory.SCHEMA),  # a routing key twice
    (IDS + b'"player\\x5fid": p-2\n', ErrorCategory.SCHEMA),  # ... once escaped
    (IDS + b"extra: !!python/name:os.system x\n", ErrorCategory.UNSAFE_TAG),
    (IDS + b"  region: eu\n", ErrorCategory.SYNTAX),
    (IDS + b"---\na: 1\n", ErrorCategory.SYNTAX),  # libraries keep the first or last one
    (IDS.replace(b"p-1", b"{id: p}"), ErrorCategory.SCHEMA),
    (IDS + b"x: \x00\n", ErrorCategory.ENCODING),
    (b"- " * 100 + b"x\n", ErrorCategory.LIMIT),
]  # fmt: skip


@pytest.mark.parametrize("name", CONTENDERS)
@pytest.mark.parametrize(("payload", "answer"), ANSWERS)
def test_answers_as_the_definition_says(name: str, payload: bytes, answer: object) -> None:
    assert outcome(create(name, Limits()), payload) == answer
    assert outcome(create("pyyaml-stream", Limits()), payload) == answer


@pytest.mark.parametrize(
    ("payload", "fell_back"),
    [(IDS, False), (IDS.replace(b"p-1", b"yes"), False), (b"p: &p p-1\n" + IDS, False),
     (b"p: &p p-1\n" + IDS.replace(b"p-1", b"*p"), True),
     (IDS + b'"player\\x5fid": p-2\n', True), (IDS + b"  region: eu\n", True)],
)  # fmt: skip
def test_rapidyaml_counts_what_it_hands_to_the_fallback(payload: bytes, fell_back: bool) -> None:
    backend = create("rapidyaml", Limits())
    outcome(backend, payload)
    assert backend.fallbacks == int(fell_back)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", CONTENDERS)
def test_a_spec_with_nested_and_scalar_fields(name: str) -> None:
    spec = RoutingSpec.parse("kind,actor.key,sid:scalar")
    backend = create(name, Limits(), spec)
    message = b"kind: door.open\nactor: {key: u-42, name: ann}\nsid: 0x1F\n"
    assert backend.route(message) == ("door.open", "u-42", "0x1F")
    assert outcome(backend, message.replace(b"0x1F", b"~")) == ErrorCategory.SCHEMA
    # a step a plain key cannot spell as a string: every message to the fallback
    on = create(name, Limits(), RoutingSpec.parse("on"))
    assert on.route(b"'on': x\n") == ("x",)
    assert on.fallbacks == 1  # type: ignore[attr-defined]
