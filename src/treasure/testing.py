"""`BackendContract`: the parser backend contract as a pytest class a backend's tests subclass.

The contract is the one `treasure.parsers` states and docs/routing.md defines. To hold a
backend of your own to it, write a test module:

    from treasure.testing import BackendContract
    from my_package import MyBackend

    class TestMyBackend(BackendContract):
        backend = MyBackend  # the class, a registered name, or "module:Class"

pytest then checks that the backend declares its name and kind; that `route()` returns a
tuple of strings for every kind of valid message and honours another routing spec; that bad
input is a `ParseError` of the right category (invalid UTF-8, syntax, schema); that no tag
outside the standard list is ever constructed; that `max_bytes`, `max_depth` and
`max_alias_expansion` are enforced exactly; that bombs are refused in bounded memory; and that
no cut of a valid message raises anything but a `ParseError`.

treasure's own backends run the same class (tests/parsers/test_contract.py). This module
imports pytest, so only tests import it: `import treasure` never does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from treasure.parsers import (
    Backend,
    BackendKind,
    ErrorCategory,
    Limits,
    ParseError,
    Routed,
    accepts_routing,
    create,
    resolve,
)
from treasure.routing import RoutingSpec

__all__ = ["BackendContract", "backend_spec"]

C = ErrorCategory
IDS = b"event_type: login\nplayer_id: p-1\nsession_id: s-1\n"
LOGIN: Routed = ("login", "p-1", "s-1")

# A ~330-byte event message with an anchor, a merge key and flow collections.
EVENT_MESSAGE = b"""ts: 1712345678901
event_type: player.move
position: {x: 1.5, y: 2.0, z: -3.25, zone: north-ridge}
player_id: p-000123
inventory:
  - &sword {item: sword, qty: 1, attrs: {dmg: 12, rarity: rare, sockets: [ruby, jade]}}
  - {<<: *sword, item: bow, qty: 2}
  - {item: potion, qty: 5, attrs: {heal: 40}}
session_id: s-3f9a1c02
tags: [pvp, ranked, season-7]
"""

# (what kind of message, payload, what it routes to)
VALID_MESSAGES: list[tuple[str, bytes, Routed]] = [
    ("event message", EVENT_MESSAGE, ("player.move", "p-000123", "s-3f9a1c02")),
    (
        "quoted values, fields out of order",
        b"session_id: \"s-1\"\nplayer_id: 'p-2'\nevent_type: chat.say\nbody: {text: hi}\n",
        ("chat.say", "p-2", "s-1"),
    ),
    (
        "document markers",
        b"---\nevent_type: trade.offer\nplayer_id: p-9\nsession_id: s-9\nitems: [1, 2]\n...\n",
        ("trade.offer", "p-9", "s-9"),
    ),
    (
        "fields from a merge key",
        b"base: &ids {player_id: p-7, session_id: s-7}\n<<: *ids\nevent_type: loot.drop\n",
        ("loot.drop", "p-7", "s-7"),
    ),
    ("flow mapping", b"{event_type: login, player_id: p-1, session_id: s-1}\n", LOGIN),
    ("alias as a value", b"p: &p p-1\nevent_type: login\nplayer_id: *p\nsession_id: s-1\n", LOGIN),
    ("block scalar", b"event_type: |-\n  login\nplayer_id: p-1\nsession_id: s-1\n", LOGIN),
    (
        "comments",
        b"# head\nevent_type: login  # the type\nplayer_id: p-1\nsession_id: s-1\n",
        LOGIN,
    ),
    ("explicit string tag", b"event_type: !!str login\nplayer_id: p-1\nsession_id: s-1\n", LOGIN),
    ("escapes", b'event_type: "log\\x69n"\nplayer_id: p-1\nsession_id: s-1\n', LOGIN),
]

OTHER_SPEC = "sid,kind,actor.id"
OTHER_SCHEMA = (
    b"kind: door.open\nactor: {id: u-42, name: ann}\nsid: s-9\n"
    b"event_type: decoy\nplayer_id: decoy\n"
)

# (what is wrong, payload, the categories the contract allows for it)
BAD_INPUT: list[tuple[str, bytes, set[ErrorCategory]]] = [
    ("unclosed flow", b"{event_type: a, player_id: p\n", {C.SYNTAX}),
    ("bad indentation", b"event_type: a\n  player_id: b\n session_id: c\n", {C.SYNTAX}),
    ("second document", IDS + b"---\na: 1\n", {C.SYNTAX}),
    ("invalid utf-8", b"event_type: \xc3\x28\nplayer_id: p\nsession_id: s\n", {C.ENCODING}),
    ("lone continuation byte", b"\x80event_type: a\n", {C.ENCODING}),
    ("NUL byte", b"event_type: e\x00\nplayer_id: p\nsession_id: s\n", {C.ENCODING}),
    ("truncated", EVENT_MESSAGE[:70], {C.SYNTAX, C.SCHEMA}),
    ("deep flow nesting", b"[" * 10_000 + b"]" * 10_000, {C.LIMIT, C.SYNTAX}),
    ("deep block nesting", b"- " * 10_000 + b"x\n", {C.LIMIT, C.SCHEMA}),
    (
        "deep nesting before the fields",
        b"deep: " + b"- " * 10_000 + b"x\nevent_type: a\nplayer_id: p\nsession_id: s\n",
        {C.LIMIT, C.SYNTAX},
    ),
    ("missing field", b"event_type: a\nplayer_id: p\n", {C.SCHEMA}),
    ("field not a string", b"event_type: a\nplayer_id: 123\nsession_id: s\n", {C.SCHEMA}),
    ("field a mapping", b"event_type: a\nplayer_id: {id: p}\nsession_id: s\n", {C.SCHEMA}),
    ("routing key twice", IDS + b"player_id: p-2\n", {C.SCHEMA}),
    ("top level list", b"- event_type\n- player_id\n", {C.SCHEMA}),
    ("empty", b"", {C.SCHEMA}),
    (
        "oversized",
        b"event_type: a\nplayer_id: p\nsession_id: s\npad: " + b"x" * 2_000_000,
        {C.LIMIT},
    ),
]

# Values under each standard tag, with content that fits it: never `unsafe-tag`.
STANDARD_TAGGED = [
    "!!str a", "!!int 1", "!!float 1.5", "!!bool true", "!!null ''", "!!timestamp 2024-05-01",
    "!!binary aGVsbG8=", "!!map {a: 1}", "!!seq [1]", "!!set {a: null}", "!!omap [{a: 1}]",
    "!!pairs [{a: 1}]", "!<tag:yaml.org,2002:merge> x", "!<tag:yaml.org,2002:value> x",
    "!<tag:yaml.org,2002:str> a", "! a",
]  # fmt: skip
OTHER_TAGGED = ["!thing x", "!!python/none ''", "!<tag:example.com,2024:x> y", "!!omap2 [a]"]

ALIAS_BOMB = b"".join(
    [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode()
        for i in range(8)
    ]
)
# Exactly 16 aliases expanding to 60,000 × 3⁵ ≈ 14.6 M nodes: a precheck that walks only
# documents with more than 16 aliases lets it through.
SIXTEEN_ALIAS_BOMB = (
    b"a: &a ["
    + b"x," * 59_999
    + b"x]\n"
    + b"".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}]\n".encode() for p, n in zip("abcde", "bcdef", strict=True)
    )
    + b"use: *f\n"
    + IDS
)
DEEP_BLOCK_MAPPING = (
    b"".join(b"  " * level + b"k:\n" for level in range(1400)) + b"  " * 1400 + b"x\n"
)
BOMBS: list[tuple[str, bytes, set[ErrorCategory]]] = [
    ("alias bomb", ALIAS_BOMB, {C.LIMIT, C.SCHEMA}),
    ("sixteen-alias bomb", SIXTEEN_ALIAS_BOMB, {C.LIMIT}),
    ("1,400 nested block mappings", DEEP_BLOCK_MAPPING, {C.LIMIT}),
]
BOMB_RSS_BYTES = 50 * 1024 * 1024  # how far refusing one bomb may raise a fresh process's peak
BOMB_TIMEOUT_S = 60.0

# Routes a bomb in a fresh process and prints its category and how far it raised the
# process's peak RSS: a bomb expanded, then refused and freed, still shows.
_BOMB_SCRIPT = """\
import resource, sys
from treasure.parsers import ParseError, create
backend = create(sys.argv[1])
payload = sys.stdin.buffer.read()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    backend.route(payload)
    category = "routed"
except ParseError as exc:
    category = exc.category.value
grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kib
print(category, grown_kib * 1024)
"""


def backend_spec(backend: type[Any] | str) -> str:
    """What `treasure.parsers.create` takes for a backend: a name, or `module:Class`."""
    if isinstance(backend, str):
        return backend
    if "." in backend.__qualname__ or "<" in backend.__qualname__:
        raise TypeError(f"{backend.__qualname__} is not importable: define it at module level")
    return f"{backend.__module__}:{backend.__qualname__}"


def nested(depth: int, style: str) -> bytes:
    """A routable message whose `deep` key nests `depth` collections below the top mapping."""
    if style == "flow":
        return IDS + b"deep: " + b"[" * depth + b"]" * depth + b"\n"
    mappings = b"\n".join(b"  " * (level + 1) + b"k:" for level in range(depth))
    return IDS + b"deep:\n" + mappings + b" x\n"


def expanding_to(nodes: int) -> bytes:
    """A routable message whose aliases reach `nodes` nodes: one alias of a 4-node list (the
    list and its 3 items), the rest aliases of a scalar."""
    return IDS + b"a: &a [1, 2, 3]\ns: &s x\nuse: [*a" + b", *s" * (nodes - 4) + b"]\n"


def padded_to(size: int) -> bytes:
    """A routable message of exactly `size` bytes."""
    head = IDS + b"pad: "
    return head + b"x" * (size - len(head) - 1) + b"\n"


def outcome(backend: Backend, payload: bytes) -> Routed | ErrorCategory:
    """What routing gives: the routed tuple, or the category of its `ParseError`."""
    try:
        return backend.route(payload)
    except ParseError as exc:
        return exc.category


class BackendContract:
    """The contract's checks. Subclass it as `TestSomething` and set `backend`."""

    backend: ClassVar[type[Any] | str]  # a backend class, a registered name or "module:Class"
    limits: ClassVar[Limits] = Limits()  # the limits the checks without their own build with
    # Cases where the backend is documented to differ (docs/routing.md): the case's name (a
    # table row, or a check's name without `test_`) -> why. Each must then fail: a strict xfail.
    differences: ClassVar[dict[str, str]] = {}

    @pytest.fixture
    def spec(self) -> str:
        """The backend as `create()` takes it; a subclass may parametrise this fixture."""
        return backend_spec(self.backend)

    def differences_of(self, spec: str) -> dict[str, str]:
        """The documented differences of the backend `spec` (a parametrised subclass's hook)."""
        return self.differences

    @pytest.fixture(autouse=True)
    def _documented_difference(self, request: pytest.FixtureRequest, spec: str) -> None:
        callspec = getattr(request.node, "callspec", None)
        case = callspec.params.get("case") if callspec else None
        name = case or request.node.originalname.removeprefix("test_")
        reason = self.differences_of(spec).get(name)
        if reason:
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=f"{spec}: {reason}"))

    @pytest.fixture
    def routed(self, spec: str) -> Backend:
        return create(spec, self.limits)

    def test_declares_name_kind_and_library(self, routed: Backend) -> None:
        assert isinstance(routed.name, str), "name: a str"
        assert routed.name, "name: not empty"
        assert routed.kind in set(BackendKind), f"kind {routed.kind!r}: one of BackendKind"
        assert isinstance(routed.library, str), "library: the distribution's name, a str"

    @pytest.mark.parametrize(
        ("case", "payload", "expected"), VALID_MESSAGES, ids=[m[0] for m in VALID_MESSAGES]
    )
    def test_routes_every_kind_of_valid_message(
        self, routed: Backend, case: str, payload: bytes, expected: Routed
    ) -> None:
        answer = routed.route(payload)
        assert type(answer) is tuple, f"{case}: route() returned a {type(answer).__name__}"
        assert all(type(value) is str for value in answer), f"{case}: {answer!r}"
        assert answer == expected, case

    def test_routes_the_fields_of_another_spec_in_its_order(self, spec: str) -> None:
        factory = resolve(spec).factory
        if factory is None or not accepts_routing(factory):
            pytest.skip(f"{spec} takes no routing= keyword: it routes the default spec only")
        backend = create(spec, self.limits, RoutingSpec.parse(OTHER_SPEC))
        assert backend.route(OTHER_SCHEMA) == ("s-9", "door.open", "u-42")

    @pytest.mark.parametrize(
        ("case", "payload", "allowed"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
    )
    def test_bad_input_is_classified(
        self, routed: Backend, case: str, payload: bytes, allowed: set[ErrorCategory]
    ) -> None:
        with pytest.raises(ParseError) as caught:
            routed.route(payload)
        assert caught.value.category in allowed, f"{case}: {caught.value}"

    @pytest.mark.parametrize("case", ["document", "routing value", "nested value"])
    def test_a_python_tag_is_never_executed(
        self, routed: Backend, tmp_path: Path, case: str
    ) -> None:
        marker = tmp_path / "constructed"
        tagged = f"!!python/object/apply:os.mkdir [{str(marker)!r}]".encode()
        payload = {
            "document": tagged + b"\n",
            "routing value": b"event_type: " + tagged + b"\nplayer_id: p\nsession_id: s\n",
            "nested value": IDS + b"extra: {list: [1, " + tagged + b"]}\n",
        }[case]
        assert outcome(routed, payload) == C.UNSAFE_TAG
        assert not marker.exists(), "the tag's object was constructed"

    @pytest.mark.parametrize("case", STANDARD_TAGGED)
    def test_a_standard_tag_is_never_unsafe(self, routed: Backend, case: str) -> None:
        # a DOM backend may still find `!!merge x` a schema fault: the tag itself is allowed
        assert outcome(routed, IDS + f"extra: {case}\n".encode()) != C.UNSAFE_TAG

    @pytest.mark.parametrize("case", OTHER_TAGGED)
    def test_any_other_tag_is_unsafe(self, routed: Backend, case: str) -> None:
        assert outcome(routed, IDS + f"extra: {case}\n".encode()) == C.UNSAFE_TAG

    def test_max_bytes_is_exact(self, spec: str) -> None:
        backend = create(spec, Limits(max_bytes=512))
        assert outcome(backend, padded_to(512)) == LOGIN
        assert outcome(backend, padded_to(513)) == C.LIMIT

    @pytest.mark.parametrize("case", ["flow", "block"])
    def test_max_depth_is_exact(self, spec: str, case: str) -> None:
        # the top mapping and each collection under `deep` count
        backend = create(spec, Limits(max_depth=8))
        assert outcome(backend, nested(7, case)) == LOGIN
        assert outcome(backend, nested(8, case)) == C.LIMIT

    def test_max_alias_expansion_is_exact(self, spec: str) -> None:
        backend = create(spec, Limits(max_alias_expansion=40))
        assert outcome(backend, expanding_to(40)) == LOGIN
        assert outcome(backend, expanding_to(41)) == C.LIMIT

    @pytest.mark.parametrize(("case", "bomb", "allowed"), BOMBS, ids=[b[0] for b in BOMBS])
    def test_a_bomb_is_refused_in_bounded_memory(
        self, spec: str, case: str, bomb: bytes, allowed: set[ErrorCategory]
    ) -> None:
        # a fresh process, so the RSS it reports is this input's alone
        done = subprocess.run(
            [sys.executable, "-c", _BOMB_SCRIPT, spec],
            input=bomb,
            capture_output=True,
            timeout=BOMB_TIMEOUT_S,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            check=False,
        )
        assert done.returncode == 0, f"{case}: {done.stderr.decode(errors='replace')}"
        category, growth = done.stdout.decode().split()
        assert category in allowed, f"{case}: {category}"
        assert int(growth) < BOMB_RSS_BYTES, f"{case}: peak RSS grew {int(growth):,} bytes"

    def test_a_cut_message_routes_or_is_a_parse_error(self, routed: Backend) -> None:
        for end in range(len(EVENT_MESSAGE)):
            answer = outcome(routed, EVENT_MESSAGE[:end])  # anything else raised fails here
            assert isinstance(answer, ErrorCategory) or type(answer) is tuple, (end, answer)

    def test_load_returns_the_whole_document(self, routed: Backend) -> None:
        load = getattr(routed, "load", None)
        if load is None:
            pytest.skip(f"{routed.name} routes only (no whole-document call)")
        assert load(EVENT_MESSAGE)["inventory"][1] == {
            "item": "bow",
            "qty": 2,
            "attrs": {"dmg": 12, "rarity": "rare", "sockets": ["ruby", "jade"]},
        }
