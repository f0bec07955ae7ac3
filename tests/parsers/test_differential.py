"""Every registered backend against the reference (tests/parsers/reference.py) on event
messages hypothesis writes in every YAML style: each must return the reference's answer
(the routed tuple or the fault's category) or one of the documented differences.

Bounded in `make test`; `make fuzz` runs it long (TREASURE_DIFFERENTIAL_EXAMPLES).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.parsers import reference

from treasure.parsers import Backend, ParseError, accepts_routing, available_names, create, resolve
from treasure.routing import RoutingSpec

EXAMPLES = int(os.environ.get("TREASURE_DIFFERENTIAL_EXAMPLES", "60"))
# make test draws the same examples on every run (a CI verdict must not depend on the draw);
# the longer runs (make fuzz-routing sets the count) explore new ones each time
DERANDOMIZE = "TREASURE_DIFFERENTIAL_EXAMPLES" not in os.environ


def _takes_any_spec(name: str) -> bool:
    factory = resolve(name).factory
    return factory is not None and accepts_routing(factory)


# Backends built before `routing=` route the default spec only; the fixed table of
# test_routing_rules.py holds their faults.
BACKENDS = [name for name in available_names() if _takes_any_spec(name)]
KEYS = ["kind", "sid", "event_type", "player_id", "session_id", "id", "user", "meta", "on"]
VALUES = ["p-1", "login", "s-7f3a", "x y", "0x1F", "yes", "12", "1_000", "2024-05-01",
          "2024-05-01 10:00", "1.5", "~", "null", "true", "caf\u00e9", "a: b", "#x",
          "- y"]  # fmt: skip


@dataclass
class Message:
    payload: bytes
    routing: RoutingSpec
    features: set[str] = field(default_factory=set)


def _scalar(draw: st.DrawFn, value: str, features: set[str]) -> str:
    style = draw(st.sampled_from(["plain", "single", "double", "literal", "str-tag", "bang"]))
    plain_ok = value not in ("a: b", "#x", "- y", "x y") or style != "plain"
    if style == "plain" and plain_ok:
        if reference.is_yaml11_only(value):
            features.add("yaml11-plain")
        return value
    if style in ("single", "plain"):
        return "'" + value.replace("'", "''") + "'"
    if style == "double":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    features.add("explicit-tag")
    if style == "str-tag":
        return "!!str '" + value.replace("'", "''") + "'"
    return "! '" + value.replace("'", "''") + "'"


@st.composite
def messages(draw: st.DrawFn) -> Message:
    features: set[str] = set()
    nested = draw(st.booleans())
    kinds = [draw(st.sampled_from(["", ":scalar"])) for _ in range(3)]
    paths = ["kind", "actor.id" if nested else "user", "sid"]
    order = draw(st.permutations(range(3)))
    spec_text = ",".join(paths[i] + kinds[i] for i in order)
    if draw(st.booleans()):
        spec_text = "event_type,player_id,session_id"
        paths, kinds = ["event_type", "player_id", "session_id"], ["", "", ""]
    routing = RoutingSpec.parse(spec_text)
    if any(kind for kind in kinds):
        features.add("scalar-field")
    lines: list[str] = []
    anchors: dict[str, str] = {}
    for _ in range(draw(st.integers(0, 3))):  # decoys: the same names, nested deeper
        key, value = draw(st.sampled_from(KEYS)), draw(st.sampled_from(VALUES))
        if key in paths or key in ("actor", "on"):
            key = "decoy_" + key
        if draw(st.booleans()):
            name = f"a{len(anchors)}"
            anchors[name] = value
            lines.append(f"{key}_{len(lines)}: &{name} {_scalar(draw, value, features)}")
        else:
            lines.append(f"{key}_{len(lines)}: {{{paths[0].split('.')[0]}: deep, id: no}}")
    merged: list[str] = []
    for path in paths:
        value = draw(st.sampled_from(VALUES))
        how = draw(st.sampled_from(["inline", "inline", "alias", "merge", "explicit"]))
        written = _scalar(draw, value, features)
        head, _, leaf = path.rpartition(".")
        if how == "alias" and anchors:
            written = "*" + draw(st.sampled_from(sorted(anchors)))
            if reference.is_yaml11_only(anchors[written[1:]]):
                features.add("yaml11-plain")
        if how == "merge" and not head:
            merged.append(f"{leaf}: {written}")
            continue
        entry = f"{leaf}: {written}" if how != "explicit" else f"? {leaf}\n: {written}"
        if head:
            lines.append(
                f"{head}:\n  {entry}"
                if how != "explicit"
                else f"{head}: {{{entry.replace(chr(10), ' ')}}}"
            )
        else:
            lines.append(entry)
        if draw(st.sampled_from([False] * 9 + [True])):
            lines.append(f"{leaf}: again")  # a duplicate routing key
            features.add("duplicate")
    if merged:
        lines.insert(0, "base: &base {" + ", ".join(merged) + "}")
        if draw(st.booleans()):
            lines.insert(
                0,
                "other: &other {" + ", ".join(f"{m.split(':')[0]}: shadowed" for m in merged) + "}",
            )
            lines.append("<<: [*base, *other]")
        else:
            lines.append("<<: *base")
    order = draw(st.permutations(range(len(lines))))
    body = [lines[i] for i in order if not lines[i].startswith(("base:", "other:"))]
    definitions = [
        line for line in lines if line.startswith(("base:", "other:", "decoy")) or "&a" in line
    ]
    body = definitions + [line for line in body if line not in definitions]
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), "# a comment: with colons")
    text = "\n".join(body) + "\n"
    if draw(st.booleans()):
        text = "%YAML 1.1\n---\n" + text + "...\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode()
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return Message(data, routing, features)


def _outcome(backend: Backend, payload: bytes) -> tuple[str, ...] | str:
    try:
        return backend.route(payload)
    except ParseError as exc:
        return exc.category.value


# The differences table of docs/routing.md: backend -> features under which it may differ.
DOCUMENTED = {
    "rust-fastyaml": {"yaml11-plain", "explicit-tag", "duplicate", "scalar-field"},
}
_CACHE: dict[tuple[str, RoutingSpec], Backend] = {}


def _backend(name: str, routing: RoutingSpec) -> Backend:
    if (name, routing) not in _CACHE:
        _CACHE[(name, routing)] = create(name, routing=routing)
    return _CACHE[(name, routing)]


@pytest.mark.parametrize("name", BACKENDS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(message=messages())
def test_every_backend_answers_as_the_reference(name: str, message: Message) -> None:
    expected = reference.answer(message.payload, message.routing)
    got = _outcome(_backend(name, message.routing), message.payload)
    if got != expected and message.features & DOCUMENTED.get(name, set()):
        return  # a documented difference
    assert got == expected, (message.payload, str(message.routing))


@pytest.mark.parametrize(
    "payload",
    [
        b"base: {sid: 2024-05-01 10:00}\nkind: p-1\n",
        b"base: [10:00, a:b]\nkind: p-1\n",
        b"kind: p-1\nbase: {x: c:d}\n",
    ],
)
def test_ruamel_reads_a_colon_inside_a_flow_plain_scalar(payload: bytes) -> None:
    # ruamel.yaml.clib's bundled libyaml refuses these valid messages; the backend rereads them
    spec = RoutingSpec.parse("kind")
    assert reference.answer(payload, spec) == ("p-1",)
    backend = create("ruamel-dom", routing=spec)
    assert _outcome(backend, payload) == ("p-1",)
    assert getattr(backend, "reread", None) == 1


def test_ruamel_keeps_refusing_an_invalid_colon_in_a_flow_mapping() -> None:
    payload = b"kind: p-1\nbase: {b: c: d}\n"
    spec = RoutingSpec.parse("kind")
    backend = create("ruamel-dom", routing=spec)
    assert reference.answer(payload, spec) == "syntax"
    assert _outcome(backend, payload) == "syntax"
    assert getattr(backend, "reread", None) == 0
