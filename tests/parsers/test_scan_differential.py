"""rust-scan against the reference (tests/parsers/reference.py) on messages hypothesis
writes to reach the scanner's own rules: routing values in every scalar style (plain and
multi-line plain, quoted with escapes and line folding, literal and folded block scalars,
tags, aliases), nested routing mappings in block and flow style, and skipped values of
every kind (nested block collections, multi-line flow, block scalars, anchors, aliases and
merges, comments). The answer must be the reference's — the routed tuple or the fault's
category — except where docs/routing.md lets the scanner differ: a syntax fault inside a
skipped value may route as the message without it does.

Bounded and the same every run in `make test`; `make fuzz-routing` runs it long
(TREASURE_DIFFERENTIAL_EXAMPLES) on new draws.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.parsers import reference

from treasure.parsers import Backend, Limits, ParseError, available_names, create
from treasure.routing import RoutingSpec

pytest.importorskip("treasure_rs", reason="build it: pip install ./rust")
pytestmark = pytest.mark.rust

EXAMPLES = int(os.environ.get("TREASURE_DIFFERENTIAL_EXAMPLES", "300"))
DERANDOMIZE = "TREASURE_DIFFERENTIAL_EXAMPLES" not in os.environ
TEXTS = ["p-1", "s-7f3a", "x y", "caf\u00e9", "a:b", "login.ok", "yes", "12", "0x1F", "1_000",
         "2024-05-01", "~", "1.5", "true", "#x", "- y", "a: b", "it's", 'say "hi"', "tab\there",
         "\u00e9t\u00e9 \U0001f600"]  # fmt: skip
PLAIN_SAFE = set(TEXTS) - {"#x", "- y", "a: b", 'say "hi"', "tab\there"}
SPEC_FIELDS = [("kind", "actor.id", "sid"), ("event_type", "player_id", "session_id")]


@dataclass
class Message:
    payload: bytes
    clean: bytes  # the same message without the fault put inside a skipped value, if any
    routing: RoutingSpec


def _double(text: str, draw: st.DrawFn) -> str:
    out = []
    for char in text:
        how = draw(st.sampled_from(["as-is", "as-is", "as-is", "u", "x"]))
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\t" or (how == "u" and ord(char) < 0x10000):
            out.append(f"\\u{ord(char):04x}")
        elif how == "x" and ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def scalar(draw: st.DrawFn, text: str, indent: int) -> str:
    """`text` written as a value in one of the YAML styles, continuation lines at `indent`."""
    pad = " " * indent
    styles = ["single", "double", "literal", "folded", "str-tag", "bang"]
    if text in PLAIN_SAFE:
        styles += ["plain", "plain", "multiline-plain"]
    style = draw(st.sampled_from(styles))
    single = "'" + text.replace("'", "''") + "'"
    if style == "plain":
        return text
    if style == "multiline-plain" and " " in text:
        return text.replace(" ", "\n" + pad, 1)
    if style in ("plain", "multiline-plain", "single"):
        if " " in text and draw(st.booleans()):
            return single.replace(" ", "\n" + pad, 1)  # a quoted scalar folded over lines
        return single
    if style == "double":
        return _double(text, draw)
    if style in ("literal", "folded") and "\t" not in text:
        chomp = draw(st.sampled_from(["", "-", "+"]))
        return ("|" if style == "literal" else ">") + chomp + "\n" + pad + text
    return ("!!str " if style == "str-tag" else "! ") + single


def skipped(draw: st.DrawFn, indent: int, anchors: list[str], maps: list[str]) -> str:
    """A value no routing field goes through, of some kind, at `indent`."""
    inner = " " * (indent + 2)
    kind = draw(st.sampled_from(["scalar", "block-seq", "block-map", "flow", "multiline-flow",
                                 "alias", "merge", "comment"]))  # fmt: skip
    text = draw(st.sampled_from(TEXTS))
    if kind == "block-seq":
        items = [scalar(draw, draw(st.sampled_from(TEXTS)), indent + 4) for _ in range(2)]
        return "\n" + "\n".join(f"{inner}- {item}" for item in items) + f"\n{inner}- [1, 2]"
    if kind == "block-map":
        name = f"m{len(maps)}"
        maps.append(name)
        return f"&{name}\n{inner}k: {scalar(draw, text, indent + 4)}\n{inner}deep:\n{inner}  - x"
    if kind == "flow":
        return "[a, {b: c, d: [1, 2]}, 'x, y', \"z\"]"
    if kind == "multiline-flow":
        return "{a: 1,\n" + inner + "b: [x,\n" + inner + "  y]}"
    if kind == "alias" and anchors:
        return "*" + draw(st.sampled_from(anchors))
    if kind == "merge" and maps:
        return f"\n{inner}<<: *{draw(st.sampled_from(maps))}\n{inner}own: key"
    if kind == "comment":
        return scalar(draw, text, indent + 2) + "   # a comment: with colons"
    name = f"a{len(anchors)}"
    anchors.append(name)
    return f"&{name} " + scalar(draw, text, indent + 2)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    paths = draw(st.sampled_from(SPEC_FIELDS))
    kinds = [draw(st.sampled_from(["", "", ":scalar"])) for _ in paths]
    routing = RoutingSpec.parse(",".join(p + k for p, k in zip(paths, kinds, strict=True)))
    anchors: list[str] = []
    maps: list[str] = []
    entries = [
        f"skip{i}: {skipped(draw, 0, anchors, maps)}" for i in range(draw(st.integers(0, 4)))
    ]
    for path in paths:
        head, _, leaf = path.rpartition(".")
        value = scalar(draw, draw(st.sampled_from(TEXTS)), 4 if head else 2)
        if anchors and draw(st.integers(0, 5)) == 0:
            value = "*" + draw(st.sampled_from(anchors))  # an alias as a routing value
        if not head:
            entries.append(f"{leaf}: {value}")
        elif "\n" in value or draw(st.booleans()):
            other = f"  name: {skipped(draw, 2, anchors, maps)}"
            lines = [f"  {leaf}: {value}", other]
            entries.append(f"{head}:\n" + "\n".join(draw(st.permutations(lines))))
        else:
            entries.append(f"{head}: {{name: ann, {leaf}: {value}}}")
    order = draw(st.permutations(range(len(entries))))
    body = [entries[i] for i in order]
    body = sorted(body, key=lambda e: "*" in e)  # anchors before the aliases naming them
    fault = draw(st.sampled_from(["none"] * 6 + ["duplicate", "mis-indented", "skipped"]))
    clean = "\n".join(body) + "\n"
    if fault == "duplicate":
        body.append(f"{paths[0].split('.')[0]}: again")
    elif fault == "mis-indented":
        body.append("   stray: line")
    elif fault == "skipped":
        body.append("broken: [a, }, b]")
    text = "\n".join(body) + "\n"
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), "# a comment line: with colons")
        text = "\n".join(body) + "\n"
    wrap = draw(st.sampled_from(["", "---\n", "%YAML 1.1\n---\n"]))
    ending = draw(st.sampled_from(["", "...\n"])) if wrap else ""
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "", "\ufeff"]))

    def encode(document: str) -> bytes:
        return (bom + (wrap + document + ending).replace("\n", newline)).encode()

    return Message(encode(text), encode(clean) if fault == "skipped" else encode(text), routing)


_CACHE: dict[tuple[str, RoutingSpec], Backend] = {}
# The contenders' fast paths read the same styles; they take no documented difference.
FAST_PATHS = [name for name in ("rapidyaml", "pyrs-yaml", "libfyaml") if name in available_names()]


def _outcome(name: str, payload: bytes, routing: RoutingSpec) -> tuple[str, ...] | str:
    if (name, routing) not in _CACHE:
        _CACHE[(name, routing)] = create(name, Limits(), routing)
    try:
        return _CACHE[(name, routing)].route(payload)
    except ParseError as exc:
        return exc.category.value


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(message=messages())
def test_rust_scan_answers_as_the_reference(message: Message) -> None:
    expected = reference.answer(message.payload, message.routing)
    got = _outcome("rust-scan", message.payload, message.routing)
    if got != expected and expected == "syntax" and message.clean != message.payload:
        # a fault inside a skipped value: the scanner may route as if it were not there
        expected = reference.answer(message.clean, message.routing)
    assert got == expected, (message.payload, str(message.routing))


@pytest.mark.parametrize("name", FAST_PATHS)
@settings(
    max_examples=EXAMPLES // 3,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(message=messages())
def test_a_contenders_fast_path_answers_as_the_reference(name: str, message: Message) -> None:
    expected = reference.answer(message.payload, message.routing)
    assert _outcome(name, message.payload, message.routing) == expected, message.payload


def test_the_generator_reaches_the_scanners_rules() -> None:
    # a message of every feature the generator writes is routed by the scan itself
    payload = (
        b"skip0: &a0 'x\n  y'\nskip1:\n  - |-\n    lit\n  - [1, 2]\n"
        b"skip2: {a: 1,\n  b: [x,\n    y]}\n"
        b'kind: >-\n  door\nactor:\n  name: *a0\n  id: "u-\\x34\\u0032"\nsid: login\n  ok\n'
    )
    routing = RoutingSpec.parse("kind,actor.id,sid")
    backend = create("rust-scan", Limits(), routing)
    assert backend.route(payload) == ("door", "u-42", "login ok")
    assert reference.answer(payload, routing) == ("door", "u-42", "login ok")
    assert backend.fallbacks == 0  # type: ignore[attr-defined]
