"""The contract suite: every registered backend routes the same records and classifies
bad input the same way — never a crash, never a hang, never an executed tag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE

from treasure.errors import BackendError
from treasure.parsers import (
    Backend,
    ErrorCategory,
    Limits,
    ParseError,
    Routed,
    accepts_routing,
    available_names,
    create,
    resolve,
)
from treasure.routing import RoutingSpec

BACKENDS = available_names()
C = ErrorCategory

SAMPLES: list[tuple[bytes, Routed]] = [
    (EVENT_MESSAGE, ("player.move", "p-000123", "s-3f9a1c02")),
    (
        b"session_id: \"s-1\"\nplayer_id: 'p-2'\nevent_type: chat.say\nbody: {text: hi}\n",
        ("chat.say", "p-2", "s-1"),
    ),
    (
        b"---\nevent_type: trade.offer\nplayer_id: p-9\nsession_id: s-9\nitems: [1, 2]\n...\n",
        ("trade.offer", "p-9", "s-9"),
    ),
    (
        b"base: &ids {player_id: p-7, session_id: s-7}\n<<: *ids\nevent_type: loot.drop\n",
        ("loot.drop", "p-7", "s-7"),
    ),
]

ALIAS_BOMB = b"".join(
    [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode()
        for i in range(8)
    ]
)

# Exactly 16 aliases: a 60,000-item list, five levels of three aliases and one use, so the
# document expands to 60,000 × 3⁵ ≈ 14.6 M nodes. A precheck that walks only documents
# with more than 16 aliases lets it through.
SIXTEEN_ALIAS_BOMB = (
    b"a: &a ["
    + b"x," * 59_999
    + b"x]\n"
    + b"".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}]\n".encode() for p, n in zip("abcde", "bcdef", strict=True)
    )
    + b"use: *f\nevent_type: e\nplayer_id: p\nsession_id: s\n"
)
DEEP_BLOCK_MAPPING = (
    b"".join(b"  " * level + b"k:\n" for level in range(1400)) + b"  " * 1400 + b"x\n"
)

# (name, payload, categories a backend may classify it under)
BAD_INPUT: list[tuple[str, bytes, set[ErrorCategory]]] = [
    ("unclosed flow", b"{event_type: a, player_id: p\n", {C.SYNTAX}),
    ("bad indentation", b"event_type: a\n  player_id: b\n session_id: c\n", {C.SYNTAX}),
    ("invalid utf-8", b"event_type: \xc3\x28\nplayer_id: p\nsession_id: s\n", {C.ENCODING}),
    ("lone continuation", b"\x80event_type: a\n", {C.ENCODING}),
    (
        "python tag",
        b"!!python/object/apply:os.system ['touch /tmp/treasure-pwned']\n",
        {C.UNSAFE_TAG},
    ),
    (
        "python tag in a field",
        b"event_type: !!python/object/apply:os.system ['touch /tmp/treasure-pwned']\n"
        b"player_id: p\nsession_id: s\n",
        {C.UNSAFE_TAG},
    ),
    ("truncated", EVENT_MESSAGE[:70], {C.SYNTAX, C.SCHEMA}),
    ("deep flow nesting", b"[" * 10_000 + b"]" * 10_000, {C.LIMIT, C.SYNTAX}),
    ("deep block nesting", b"- " * 10_000 + b"x\n", {C.LIMIT, C.SCHEMA}),
    (
        "deep nesting before the fields",
        b"deep: " + b"- " * 10_000 + b"x\nevent_type: a\nplayer_id: p\nsession_id: s\n",
        {C.LIMIT, C.SYNTAX},
    ),
    ("alias bomb", ALIAS_BOMB, {C.LIMIT, C.SCHEMA}),
    ("missing field", b"event_type: a\nplayer_id: p\n", {C.SCHEMA}),
    ("field not a string", b"event_type: a\nplayer_id: 123\nsession_id: s\n", {C.SCHEMA}),
    ("top level list", b"- event_type\n- player_id\n", {C.SCHEMA}),
    ("empty", b"", {C.SCHEMA}),
    (
        "oversized",
        b"event_type: a\nplayer_id: p\nsession_id: s\npad: " + b"x" * 2_000_000,
        {C.LIMIT},
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return create(request.param, Limits())


def test_every_builtin_backend_is_registered() -> None:
    expected = {"pyyaml-dom", "pyyaml-dom-pure", "ruamel-dom", "pyyaml-stream", "msgspec-typed"}
    assert expected <= set(BACKENDS)


@pytest.mark.parametrize(("payload", "expected"), SAMPLES)
def test_routes_the_same_record(backend: Backend, payload: bytes, expected: Routed) -> None:
    routed = backend.route(payload)
    assert type(routed) is tuple
    assert routed == expected


OTHER_SCHEMA = (
    b"kind: door.open\nactor: {id: u-42, name: ann}\nsid: s-9\n"
    b"event_type: decoy\nplayer_id: decoy\n"
)


@pytest.mark.parametrize("name", BACKENDS)
def test_routes_the_fields_of_the_spec_in_its_order(name: str) -> None:
    # given a spec naming other fields, one nested, in an order unlike the message's
    routing = RoutingSpec.parse("sid,kind,actor.id")
    factory = resolve(name).factory
    assert factory is not None
    if not accepts_routing(factory):
        pytest.skip(f"{name} takes no routing= yet: it routes the default spec only")
    backend = create(name, Limits(), routing)
    # when the message is routed, then those fields come back in the spec's order
    assert backend.route(OTHER_SCHEMA) == ("s-9", "door.open", "u-42")


@pytest.mark.parametrize(("case", "payload", "allowed"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_classified(
    backend: Backend, case: str, payload: bytes, allowed: set[ErrorCategory]
) -> None:
    with pytest.raises(ParseError) as caught:
        backend.route(payload)
    assert caught.value.category in allowed, f"{case}: {caught.value}"
    assert not Path("/tmp/treasure-pwned").exists()


def test_document_backends_load_the_whole_tree(backend: Backend) -> None:
    load = getattr(backend, "load", None)
    if load is None:
        pytest.skip(f"{backend.name} routes only (no whole-document call)")
    document = load(EVENT_MESSAGE)
    assert document["inventory"][1] == {
        "item": "bow",
        "qty": 2,
        "attrs": {"dmg": 12, "rarity": "rare", "sockets": ["ruby", "jade"]},
    }


BOMBS = [
    ("alias bomb", ALIAS_BOMB, {"limit", "schema"}),
    ("sixteen-alias bomb", SIXTEEN_ALIAS_BOMB, {"limit"}),
    ("1,400 nested block mappings", DEEP_BLOCK_MAPPING, {"limit"}),
]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize(("case", "bomb", "allowed"), BOMBS, ids=[b[0] for b in BOMBS])
def test_bomb_is_refused_in_bounded_memory(
    name: str, case: str, bomb: bytes, allowed: set[str]
) -> None:
    # given a fresh process, so the RSS it reports is this input's alone
    script = (
        "import os, sys\n"
        "from treasure.parsers import create, ParseError\n"
        "page = os.sysconf('SC_PAGE_SIZE')\n"
        "rss = lambda: int(open('/proc/self/statm').read().split()[1]) * page\n"
        f"backend = create({name!r})\n"
        "before = rss()\n"
        "try:\n"
        "    backend.route(sys.stdin.buffer.read())\n"
        "    print('routed', 0)\n"
        "except ParseError as exc:\n"
        "    print(exc.category.value, rss() - before)\n"
    )
    # when the bomb is routed
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=bomb,
        capture_output=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )
    # then it is refused, classified, and memory stays bounded
    assert done.returncode == 0, done.stderr.decode()
    category, growth = done.stdout.decode().split()
    assert category in allowed, case
    assert int(growth) < 50 * 1024 * 1024


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
