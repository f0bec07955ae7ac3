"""Hostile input through every Rust backend: each ends in a classified ParseError (or a
routed record), never a panic, a hang, an executed tag or unbounded memory."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from treasure.parsers import ErrorCategory, Limits, ParseError, available_names, create

pytest.importorskip("treasure_rs", reason="build it: pip install ./rust")

pytestmark = pytest.mark.rust

C = ErrorCategory
RUST_BACKENDS = [name for name in ("rust-serde", "rust-events", "rust-fastyaml")
                 if name in available_names()]  # fmt: skip
ROUTING = b"event_type: e\nplayer_id: p\nsession_id: s\n"


def alias_bomb() -> bytes:
    """Billion laughs: 9 levels of 9 aliases, about 500 bytes, ~387 million nodes expanded."""
    lolz = ", ".join(['"lolol"'] * 9)
    lines = [f"laugh0: &l0 [{lolz}]".encode()]
    for level in range(1, 9):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"laugh{level}: &l{level} [{refs}]".encode())
    return b"\n".join(lines) + b"\n"


ALIAS_BOMB = alias_bomb()

HOSTILE: list[tuple[str, bytes, set[ErrorCategory]]] = [
    ("alias bomb", ALIAS_BOMB, {C.LIMIT}),
    ("alias bomb before the fields", ALIAS_BOMB + ROUTING, {C.LIMIT}),
    ("10k deep [", b"[" * 10_000, {C.LIMIT}),
    ("10k deep {", b"{" * 10_000, {C.LIMIT}),
    ("10k deep [ closed", b"x: " + b"[" * 10_000 + b"]" * 10_000 + b"\n" + ROUTING, {C.LIMIT}),
    ("10k deep mixed", b"x: " + b"{a: [" * 5_000 + b"\n" + ROUTING, {C.LIMIT}),
    ("truncated flow", b"x: {a: [1, 2", {C.SYNTAX}),
    ("truncated quote", b'event_type: "player.mo', {C.SYNTAX}),
    ("invalid utf-8", b"event_type: \xff\xfe\nplayer_id: p\nsession_id: s\n", {C.ENCODING}),
    ("truncated utf-8", b"event_type: caf\xc3", {C.ENCODING}),
    ("utf-16 bytes", "event_type: e\n".encode("utf-16"), {C.ENCODING}),
    ("python tag", b'!!python/object/apply:os.system ["echo pwned"]\n', {C.UNSAFE_TAG}),
    (
        "python tag before the fields",
        b'cmd: !!python/object/apply:os.system ["echo pwned"]\n' + ROUTING,
        {C.UNSAFE_TAG},
    ),
    ("python name tag", b"x: !!python/name:os.system\n" + ROUTING, {C.UNSAFE_TAG}),
    ("local tag", b"x: !exec rm\n" + ROUTING, {C.UNSAFE_TAG}),
    ("huge scalar over max_bytes", b"event_type: " + b"x" * (2 << 20) + b"\n", {C.LIMIT}),
    ("top level list", b"- event_type\n- player_id\n", {C.SCHEMA}),
    ("missing field", b"event_type: e\nplayer_id: p\n", {C.SCHEMA}),
    ("field is a number", b"event_type: e\nplayer_id: 42\nsession_id: s\n", {C.SCHEMA}),
]


@pytest.fixture(params=RUST_BACKENDS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(("case", "payload", "allowed"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_classified(
    name: str, case: str, payload: bytes, allowed: set[ErrorCategory]
) -> None:
    # when the hostile payload is routed
    with pytest.raises(ParseError) as caught:
        create(name, Limits()).route(payload)
    # then it is refused under its category, and no panic reached the guard
    assert caught.value.category in allowed, f"{case}: {caught.value}"
    assert "panic" not in caught.value.detail


def test_a_tag_is_never_executed(name: str, tmp_path: Path) -> None:
    # given a payload whose tag would create a file if a loader ran it
    marker = tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]\n'.encode()
    # when it is routed
    with pytest.raises(ParseError) as caught:
        create(name, Limits()).route(payload)
    # then it is refused and nothing ran
    assert caught.value.category is C.UNSAFE_TAG
    assert not marker.exists()


def test_huge_scalar_and_many_keys_within_limits_route(name: str) -> None:
    # given large but legal messages
    huge = b"blob: " + b"x" * 900_000 + b"\n" + ROUTING
    many = b"".join(b"k%d: v%d\n" % (i, i) for i in range(20_000)) + ROUTING
    for payload in (huge, many):
        # when routed, then the routing fields come through
        assert create(name, Limits()).route(payload) == ("e", "p", "s")


def test_every_truncation_is_routed_or_classified(name: str) -> None:
    # given every prefix of a message holding anchors, aliases, flow and quotes
    message = (
        b'ts: 1\nbase: &b {zone: "north", pos: [1, 2.5]}\nevent_type: e\nhere: *b\n'
        b"player_id: 'p'\ntags: [a, {b: c}]\nsession_id: s\n"
    )
    backend = create(name, Limits())
    outcomes: set[str] = set()
    panics: list[str] = []
    for end in range(len(message) + 1):
        # when each is routed, then only the contract's record or error comes out
        try:
            outcomes.add(type(backend.route(message[:end])).__name__)
        except ParseError as exc:
            outcomes.add(exc.category.value)
            panics += [exc.detail] if "panic" in exc.detail else []
    assert panics == []
    assert {"tuple", "schema", "syntax"} <= outcomes


def test_mutated_messages_are_routed_or_classified(name: str) -> None:
    # given seeded random byte mutations of a message
    message = bytearray(b"event_type: e\nplayer_id: &p p\nsession_id: [s]\nx: {a: *p}\n")
    rng = random.Random(20240501)
    backend = create(name, Limits())
    alphabet = b"[]{}:-,&*!|>'\"#%@\n \t\xff\xc3"
    panics: list[str] = []
    for _ in range(2_000):
        mutant = bytearray(message)
        for _ in range(rng.randint(1, 4)):
            mutant[rng.randrange(len(mutant))] = rng.choice(alphabet)
        # when routed, then the outcome is a record or a classified error
        try:
            backend.route(bytes(mutant))
        except ParseError as exc:
            panics += [exc.detail] if "panic" in exc.detail else []
    assert panics == []


BOMB_SCRIPT = """
import os, sys, time
from treasure.parsers import create, ParseError
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * page
backend = create(sys.argv[1])
payload = sys.stdin.buffer.read()
before = rss()
start = time.perf_counter()
try:
    backend.route(payload)
    outcome = "routed"
except ParseError as exc:
    outcome = exc.category.value
print(outcome, rss() - before, f"{(time.perf_counter() - start) * 1000:.2f}")
"""


def test_alias_bomb_is_a_limit_error_in_bounded_memory(name: str) -> None:
    # given a fresh process, so the RSS it reports is this input's alone
    assert 450 <= len(ALIAS_BOMB) <= 550
    # when the ~500-byte bomb is routed
    done = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, name],
        input=ALIAS_BOMB,
        capture_output=True,
        timeout=60,
        check=False,
    )
    # then it is refused as a limit, and RSS grew by less than 50 MB
    assert done.returncode == 0, done.stderr.decode()
    outcome, growth, elapsed_ms = done.stdout.decode().split()
    print(f"\n{name}: {len(ALIAS_BOMB)}-byte bomb -> {outcome} in {elapsed_ms} ms, RSS +{growth} B")
    assert outcome == "limit"
    assert int(growth) < 50 * 1024 * 1024
