"""The contenders (the `contenders` extra): registered like every backend, listed with
the install command when missing, and each answering what docs/routing.md says, the
fallback counted where the library alone cannot be sure."""

from __future__ import annotations

import sys

import pytest

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, create, discover
from treasure.routing import RoutingSpec

ryml = pytest.importorskip("ryml", reason="the contenders extra: pip install '.[contenders]'")

IDS = b"event_type: login\nplayer_id: p-1\nsession_id: s-1\n"


def outcome(backend: object, payload: bytes) -> object:
    try:
        return backend.route(payload)  # type: ignore[attr-defined]
    except ParseError as exc:
        return exc.category


def test_rapidyaml_is_registered_as_a_contender() -> None:
    info = discover()["rapidyaml"]
    assert (info.available, info.kind, info.library) == (True, BackendKind.CONTENDER, "rapidyaml")


def test_a_missing_library_is_listed_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given rapidyaml cannot be imported (None in sys.modules stops the import)
    monkeypatch.setitem(sys.modules, "ryml", None)
    monkeypatch.delitem(sys.modules, "treasure.parsers.rapidyaml_tree", raising=False)
    # when the backends are discovered, then it is unavailable and says how to install it
    info = discover()["rapidyaml"]
    assert not info.available
    assert "ryml" in info.problem
    assert "treasure[contenders]" in info.install_hint


def test_every_message_gets_its_own_tree() -> None:
    # rapidyaml parses into an existing tree by appending to its root: a reused tree would
    # keep answering the first message's fields
    backend = create("rapidyaml", Limits())
    assert backend.route(IDS) == ("login", "p-1", "s-1")
    assert backend.route(IDS.replace(b"p-1", b"p-2")) == ("login", "p-2", "s-1")
    assert backend.fallbacks == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("payload", "answer", "fell_back"),
    [
        (
            b"session_id: 's-1'\nplayer_id: \"p-\\x31\"\nevent_type: |\n  login\n",
            ("login\n", "p-1", "s-1"),
            False,
        ),
        (IDS.replace(b"p-1", b"yes"), ErrorCategory.SCHEMA, False),  # a YAML 1.1 boolean
        (IDS.replace(b"s-1", b"2024-05-01 10:00"), ("login", "p-1", "2024-05-01 10:00"), False),
        (b"p: &p p-1\n" + IDS.replace(b"p-1", b"*p"), ("login", "p-1", "s-1"), True),
        (
            b"a: &a {player_id: p-a}\n<<: *a\nevent_type: e\nsession_id: s\n",
            ("e", "p-a", "s"),
            True,
        ),
        (IDS + b"player_id: p-2\n", ErrorCategory.SCHEMA, True),  # a routing key twice
        (IDS + b'"player\\x5fid": p-2\n', ErrorCategory.SCHEMA, True),  # ... once escaped
        (IDS + b"extra: !!python/name:os.system x\n", ErrorCategory.UNSAFE_TAG, True),
        (IDS + b"  region: eu\n", ErrorCategory.SYNTAX, True),  # refused by rapidyaml too
        (IDS + b"---\na: 1\n", ErrorCategory.SYNTAX, True),
        (IDS.replace(b"p-1", b"{id: p}"), ErrorCategory.SCHEMA, True),
        (b"- " * 100 + b"x\n", ErrorCategory.LIMIT, True),
    ],
)
def test_rapidyaml_answers_as_the_definition_with_the_fallback_counted(
    payload: bytes, answer: object, fell_back: bool
) -> None:
    backend = create("rapidyaml", Limits())
    assert outcome(backend, payload) == answer
    assert backend.fallbacks == int(fell_back)  # type: ignore[attr-defined]
    assert outcome(create("pyyaml-stream", Limits()), payload) == answer


def test_rapidyaml_routes_a_spec_with_nested_and_scalar_fields() -> None:
    spec = RoutingSpec.parse("kind,actor.key,sid:scalar")
    backend = create("rapidyaml", Limits(), spec)
    message = b"kind: door.open\nactor: {key: u-42, name: ann}\nsid: 0x1F\n"
    assert backend.route(message) == ("door.open", "u-42", "0x1F")
    assert outcome(backend, message.replace(b"0x1F", b"~")) == ErrorCategory.SCHEMA
    assert backend.fallbacks == 1  # type: ignore[attr-defined]  # null: named by the fallback
    # a step a plain key cannot spell as a string: every message to the fallback
    on = create("rapidyaml", Limits(), RoutingSpec.parse("on"))
    assert on.route(b"'on': x\n") == ("x",)
    assert on.fallbacks == 1  # type: ignore[attr-defined]
