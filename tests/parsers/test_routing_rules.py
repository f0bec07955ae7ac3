"""docs/routing.md, case by case, on every registered backend: the mis-routes, the raw
exceptions and the resolution drift found on valid or plausible messages, the tag rule
and one category per kind of fault."""

from __future__ import annotations

import pytest
from _pytest.mark import ParameterSet

from treasure.parsers import (
    ErrorCategory,
    Limits,
    ParseError,
    accepts_routing,
    available_names,
    create,
    resolve,
)
from treasure.parsers._yaml11 import SAFE_TAGS

BACKENDS = available_names()
C = ErrorCategory
IDS = b"event_type: login\nplayer_id: p-1\nsession_id: s-1\n"
ROUTED = ("login", "p-1", "s-1")


def ids(player: bytes = b"p", session: bytes = b"s") -> bytes:
    return b"event_type: e\nplayer_id: " + player + b"\nsession_id: " + session + b"\n"


# (case, payload, the answer: the routed tuple or the category)
ANSWERS: list[tuple[str, bytes, tuple[str, ...] | ErrorCategory | str]] = [
    (
        "alias inside a merge source",
        b"p: &p p-1\nd: &d {player_id: *p, region: eu}\nevent_type: login\n"
        b"session_id: s-1\n<<: *d\n",
        ("login", "p-1", "s-1"),
    ),
    ("mis-indented line after the last field", IDS + b"  region: eu\n", C.SYNTAX),
    ("routing key repeated after all are known", IDS + b"player_id: p-2\n", C.SCHEMA),
    ("routing key repeated before the others", b"player_id: p-2\n" + IDS, C.SCHEMA),
    (
        "merge list: the earlier source wins",
        b"a: &a {player_id: p-a}\nb: &b {player_id: p-b}\nevent_type: e\nsession_id: s\n"
        b"<<: [*a, *b]\n",
        ("e", "p-a", "s"),
    ),
    (
        "own key wins over a merged one",
        b"a: &a {player_id: p-a}\n<<: *a\nevent_type: e\nplayer_id: p-own\nsession_id: s\n",
        ("e", "p-own", "s"),
    ),
    ("merged key is no duplicate", b"a: &a {player_id: p-a}\n<<: *a\n" + IDS, ROUTED),
    ("impossible timestamp elsewhere", IDS + b"last_seen: 0000-00-00 00:00:00\n", "dom"),
    ("impossible date elsewhere", IDS + b"created: 2024-02-30\n", "dom"),
    ("empty !!int elsewhere", IDS + b"level: !!int\n", "dom"),
    ("!!bool maybe elsewhere", IDS + b"flag: !!bool maybe\n", "dom"),
    ("unhashable complex key", b"? [[a]]\n: 1\n" + IDS, "dom"),
    ("impossible date as a routing value", ids(session=b"2024-02-30"), C.SCHEMA),
    (
        "timestamp without seconds is a string",
        ids(session=b"2024-05-01 10:00"),
        ("e", "p", "2024-05-01 10:00"),
    ),
    (
        "T without seconds is a string",
        ids(session=b"2024-05-01T10:00"),
        ("e", "p", "2024-05-01T10:00"),
    ),
    ("one-digit month is a string", ids(session=b"2024-5-1"), ("e", "p", "2024-5-1")),
    ("a date is no string", ids(session=b"2024-05-01"), C.SCHEMA),
    ("yes is a boolean", ids(b"yes"), C.SCHEMA),
    ("the ! tag makes a string", ids(b"! p-1"), ("e", "p-1", "s")),
    ("!! str is a string", ids(b"!!str 12"), ("e", "12", "s")),
    ("a boolean top-level key", b"on: tap\n" + IDS, ROUTED),
    ("NUL byte", b"event_type: e\x00\nplayer_id: p\nsession_id: s\n", C.ENCODING),
    ("DEL character", b"event_type: e\x7f\nplayer_id: p\nsession_id: s\n", C.ENCODING),
    ("invalid !!binary as a routing value", ids(b"!!binary '@@'"), C.SCHEMA),
    ("second document", IDS + b"---\na: 1\n", C.SYNTAX),
    ("routing value is a mapping", ids(b"{id: p}"), C.SCHEMA),
    ("merge of a scalar", b"<<: 1\n" + IDS, "dom"),
]
# "dom": a fault inside a value no routing field goes through: `schema` for the backends
# that construct every value, routed by the routing backends (docs/routing.md).
ROUTING_BACKENDS = {
    "pyyaml-stream",
    "rust-serde",
    "rust-events",
    "rust-scan",
    "rapidyaml",
    "pyrs-yaml",
    "libfyaml",
}


# rust-fastyaml is a YAML 1.2 library returning a plain dict: its rows of the differences
# table in docs/routing.md, case by case.
FASTYAML_ROWS = {
    "routing key repeated after all are known": ("login", "p-2", "s-1"),  # duplicate: last
    "routing key repeated before the others": ("login", "p-1", "s-1"),
    "impossible timestamp elsewhere": ("login", "p-1", "s-1"),  # 1.2: a string
    "impossible date elsewhere": ("login", "p-1", "s-1"),
    "empty !!int elsewhere": ("login", "p-1", "s-1"),  # standard tags ignored
    "!!bool maybe elsewhere": ("login", "p-1", "s-1"),
    "impossible date as a routing value": ("e", "p", "2024-02-30"),
    "a date is no string": ("e", "p", "2024-05-01"),
    "yes is a boolean": ("e", "yes", "s"),
    "invalid !!binary as a routing value": ("e", "@@", "s"),
}


def expected_answer(name: str, case: str, answer: object) -> object:
    if name == "rust-fastyaml" and case in FASTYAML_ROWS:
        return FASTYAML_ROWS[case]
    if answer == "dom":
        return ("login", "p-1", "s-1") if name in ROUTING_BACKENDS else C.SCHEMA
    return answer


# Faults of the Rust routers built before they took the routing spec: (backends, reason).
# The build that takes `routing=` implements docs/routing.md, so the marks fall away with it.
# rust-scan hands every one of these messages to rust-events, whose walk implements
# docs/routing.md, so it has none of these faults even before it takes `routing=`.
RUST = ("rust-serde", "rust-events")
RUST_FAULTS: dict[str, tuple[tuple[str, ...], str]] = {
    "mis-indented line after the last field": (RUST, "what follows the last field is not read"),
    "routing key repeated after all are known": (RUST, "stops at the last field: first one wins"),
    "routing key repeated before the others": (("rust-events",), "the first wins"),
    "timestamp without seconds is a string": (RUST, "refuses it as a timestamp"),
    "T without seconds is a string": (RUST, "refuses it as a timestamp"),
    "one-digit month is a string": (RUST, "refuses it as a timestamp"),
    "the ! tag makes a string": (RUST, "refuses the non-specific tag as unsafe"),
    "NUL byte": (RUST, "syntax, not encoding"),
    "DEL character": (RUST, "syntax, not encoding"),
    "second document": (RUST, "reads no further than the fields"),
    "unsafe tag elsewhere": (RUST, "tags outside the routing fields are not read"),
    "depth block-mapping": (RUST, "depth of block mappings after the fields not counted"),
    "alias expansion": (RUST, "aliases after the fields not counted"),
}


def pre_spec_rust(name: str) -> bool:
    if name not in RUST:
        return False
    factory = resolve(name).factory
    return factory is not None and not accepts_routing(factory)


def per_backend(fault: str, name: str, *values: object) -> ParameterSet:
    """One parameter set for a backend, marked when it is a documented pre-spec Rust fault."""
    backends, reason = RUST_FAULTS.get(fault, ((), ""))
    mark = pytest.mark.xfail(
        name in backends and pre_spec_rust(name),
        reason=f"{name} built before routing=: {reason}",
        strict=True,
    )
    return pytest.param(name, *values, marks=mark, id=f"{name}-{fault}")


def outcome(name: str, payload: bytes, limits: Limits | None = None) -> object:
    try:
        return create(name, limits or Limits()).route(payload)
    except ParseError as exc:
        return exc.category


@pytest.mark.parametrize(
    ("name", "case", "payload", "answer"),
    [per_backend(case, name, case, payload, answer) for case, payload, answer in ANSWERS
     for name in BACKENDS],
)  # fmt: skip
def test_routes_as_the_definition_says(
    name: str, case: str, payload: bytes, answer: object
) -> None:
    # when the message is routed, then the answer is the definition's, never a raw exception
    assert outcome(name, payload) == expected_answer(name, case, answer), case


FITTING_CONTENT = {
    "str": "a", "int": "1", "float": "1.5", "bool": "true", "null": "''",
    "timestamp": "2024-05-01", "binary": "aGVsbG8=", "map": "{a: 1}", "seq": "[1]",
    "set": "{a: null}", "omap": "[{a: 1}]", "pairs": "[{a: 1}]", "merge": "x", "value": "x",
}  # fmt: skip


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("tag", sorted(SAFE_TAGS))
def test_a_tag_of_the_safe_list_is_never_unsafe(name: str, tag: str) -> None:
    # given a value tagged with a tag of the one safe list, with content that fits it
    short = tag.rsplit(":", 1)[-1]
    spelled = "!" if tag == "!" else f"!<{tag}>" if short in {"merge", "value"} else f"!!{short}"
    payload = IDS + f"extra: {spelled} {FITTING_CONTENT.get(short, 'a')}\n".encode()
    # when routed, then it is never refused as unsafe
    assert outcome(name, payload) != C.UNSAFE_TAG


@pytest.mark.parametrize("name", [per_backend("unsafe tag elsewhere", name) for name in BACKENDS])
@pytest.mark.parametrize(
    "tagged",
    [b"!thing x", b"!!python/none ''", b"!<tag:example.com,2024:x> y", b"!!python/str a",
     b"!!omap2 [a]", b"!e!x y"],
)  # fmt: skip
def test_any_other_tag_anywhere_is_unsafe(name: str, tagged: bytes) -> None:
    directive = b"%TAG !e! tag:example.com,2024:\n---\n" if tagged.startswith(b"!e!") else b""
    for payload in (directive + IDS + b"extra: " + tagged + b"\n", directive + ids(tagged)):
        assert outcome(name, payload) == C.UNSAFE_TAG, payload


def _nested(depth: int, style: str) -> bytes:
    if style == "flow":
        return b"deep: " + b"[" * depth + b"]" * depth + b"\n" + IDS
    lines = [b"  " * level + b"k:" for level in range(depth)]
    return IDS + b"deep:\n" + b"\n".join(b"  " + line for line in lines) + b" x\n"


@pytest.mark.parametrize(
    ("name", "style"),
    [per_backend(f"depth {style}", name, style) for style in ("flow", "block-mapping")
     for name in BACKENDS],
)  # fmt: skip
def test_depth_limit_is_exact(name: str, style: str) -> None:
    # given the depth limit of 8: the top mapping and `deep`'s collections count
    limits = Limits(max_depth=8)
    # when a document nests exactly to the limit, then one level deeper
    at_limit = outcome(name, _nested(7, style), limits)
    over = outcome(name, _nested(8, style), limits)
    # then the first routes and the second is a limit fault
    assert at_limit == ("login", "p-1", "s-1")
    assert over == C.LIMIT


def _expanding_to(nodes: int) -> bytes:
    """A document whose aliases reach `nodes` nodes: one alias of a 4-node list, the rest
    aliases of a scalar."""
    return IDS + b"a: &a [1, 2, 3]\ns: &s x\nuse: [*a" + b", *s" * (nodes - 4) + b"]\n"


@pytest.mark.parametrize("name", [per_backend("alias expansion", name) for name in BACKENDS])
def test_alias_expansion_limit_is_exact(name: str) -> None:
    # given a limit of 40 nodes reached through aliases
    limits = Limits(max_alias_expansion=40)
    # when documents reach exactly 40, then 41
    at_limit = outcome(name, _expanding_to(40), limits)
    over = outcome(name, _expanding_to(41), limits)
    # then the first routes and the second is a limit fault
    assert at_limit == ("login", "p-1", "s-1")
    assert over == C.LIMIT
