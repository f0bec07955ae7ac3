"""docs/routing.md through the Rust backends from Python: custom specs, and the messages
issue 11 found routed wrongly or refused (each answer checked by hand against the rules)."""

from __future__ import annotations

import pytest

from treasure.parsers import ErrorCategory, Limits, ParseError, Routed, create
from treasure.routing import RoutingSpec

pytest.importorskip("treasure_rs", reason="build it: pip install ./rust")

pytestmark = pytest.mark.rust

C = ErrorCategory
TREASURE_RS = ("rust-serde", "rust-events")
HEAD = "event_type: login\nplayer_id: p-1\n"
DEFS = "a: &a {player_id: from-a}\nb: &b {player_id: from-b, region: eu}\n"

# (label, message, spec or None for the default, routed tuple or error category)
CASES: list[tuple[str, str, str | None, Routed | ErrorCategory]] = [
    (
        "an alias inside a merge source keeps its value",
        "p: &p p-1\nd: &d {player_id: *p, region: eu}\nevent_type: login\n"
        "session_id: s-1\n<<: *d\n",
        None,
        ("login", "p-1", "s-1"),
    ),
    (
        "a mis-indented line after the last field",
        HEAD + "session_id: s-1\n  region: eu\n",
        None,
        C.SYNTAX,
    ),
    (
        "a routing key repeated after all three",
        HEAD + "session_id: s\nplayer_id: p-2\n",
        None,
        C.SCHEMA,
    ),
    (
        "a merge list: the earlier source wins",
        DEFS + "event_type: e\nsession_id: s\n<<: [*a, *b]\n",
        None,
        ("e", "from-a", "s"),
    ),
    (
        "own keys win over merged ones",
        DEFS + "<<: [*b, *a]\nevent_type: e\nplayer_id: own\nsession_id: s\n",
        None,
        ("e", "own", "s"),
    ),
    (
        "a date and a time without seconds is a string",
        HEAD + "session_id: 2024-05-01 10:00\n",
        None,
        ("login", "p-1", "2024-05-01 10:00"),
    ),
    (
        "T and no seconds is a string",
        HEAD + "session_id: 2024-05-01T10:00\n",
        None,
        ("login", "p-1", "2024-05-01T10:00"),
    ),
    (
        "one-digit month and day, no time, is a string",
        HEAD + "session_id: 2024-5-1\n",
        None,
        ("login", "p-1", "2024-5-1"),
    ),
    ("a date is a timestamp", HEAD + "session_id: 2024-05-01\n", None, C.SCHEMA),
    (
        "the non-specific tag on a string-looking scalar",
        "event_type: e\nplayer_id: ! p-1\nsession_id: ! s-1\n",
        None,
        ("e", "p-1", "s-1"),
    ),
    (
        "the non-specific tag resolves as plain, as PyYAML does",
        "event_type: e\nplayer_id: ! p-1\nsession_id: ! 42\n",
        None,
        C.SCHEMA,
    ),
    (
        "an unknown tag after the fields",
        HEAD + 'session_id: s\nx: !!python/object/apply:os.system ["echo pwned"]\n',
        None,
        C.UNSAFE_TAG,
    ),
    ("a local tag anywhere", HEAD + "session_id: s\nx: [!thing 1]\n", None, C.UNSAFE_TAG),
    (
        "a non-string top-level key",
        "on: tap\n" + HEAD + "session_id: s\n",
        None,
        ("login", "p-1", "s"),
    ),
    (
        "an impossible timestamp nothing routes through",
        HEAD + "session_id: s\nlast_seen: 0000-00-00 00:00:00\ncreated: 2024-02-30\n",
        None,
        ("login", "p-1", "s"),
    ),
    (
        "an empty !!int nothing routes through",
        HEAD + "session_id: s\nlevel: !!int\n",
        None,
        ("login", "p-1", "s"),
    ),
    (
        "a sequence as a key",
        "? [[a]]\n: x\n" + HEAD + "session_id: s\n",
        None,
        ("login", "p-1", "s"),
    ),
    ("a second document", HEAD + "session_id: s\n---\nx: 1\n", None, C.SYNTAX),
    (
        "a merge value nothing looks up",
        HEAD + "session_id: s\n<<: 5\n",
        None,
        ("login", "p-1", "s"),
    ),
    ("a merge value a lookup reaches", "event_type: e\nsession_id: s\n<<: 5\n", None, C.SCHEMA),
    (
        "another schema with nested paths",
        "kind: tap\nactor: {id: a-9, name: ann}\nsid: s-1\n",
        "kind,actor.id,sid",
        ("tap", "a-9", "s-1"),
    ),
    (
        "a scalar field routes the text written",
        "kind: tap\nmeta: {seq: 0x1F, ok: yes}\n",
        "meta.seq:scalar,meta.ok:scalar,kind",
        ("0x1F", "yes", "tap"),
    ),
    ("a string field holding an int", "kind: tap\nmeta: {seq: 0x1F}\n", "meta.seq", C.SCHEMA),
    ("a null is no scalar", "kind: ~\n", "kind:scalar", C.SCHEMA),
    ("a path through a scalar", "kind: tap\nactor: a-9\n", "actor.id", C.SCHEMA),
    ("a duplicate intermediate key", "actor: {id: a}\nactor: {id: b}\n", "actor.id", C.SCHEMA),
    (
        "a merged intermediate mapping",
        "base: &b {actor: {id: a-1}}\n<<: *b\n",
        "actor.id",
        ("a-1",),
    ),
]


@pytest.mark.parametrize("name", TREASURE_RS)
@pytest.mark.parametrize(("label", "message", "spec", "expected"), CASES, ids=[c[0] for c in CASES])
def test_routes_as_docs_routing_says(
    name: str, label: str, message: str, spec: str | None, expected: Routed | ErrorCategory
) -> None:
    # given a Rust backend built with the case's spec
    routing = RoutingSpec.parse(spec) if spec else None
    backend = create(name, Limits(), routing)
    # when it routes the message, then it returns the documented answer
    if isinstance(expected, ErrorCategory):
        with pytest.raises(ParseError) as caught:
            backend.route(message.encode())
        assert caught.value.category is expected, f"{label}: {caught.value}"
    else:
        assert backend.route(message.encode()) == expected, label
