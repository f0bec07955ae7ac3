"""msgspec-json: the contract's rows in JSON (its payloads are JSON, so the YAML rows of
test_contract.py do not apply to it), and the same answers as a YAML backend gives on the
same JSON text (JSON is YAML's flow style) for every message of a recording made JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from treasure.parsers import (
    ErrorCategory,
    Limits,
    ParseError,
    Routed,
    available_names,
    create,
    discover,
)
from treasure.recordings import open_recording
from treasure.routing import RoutingSpec

C = ErrorCategory
RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
IDS = '"event_type": "login", "player_id": "p-1", "session_id": "s-1"'


def outcome(payload: bytes, spec: str = "", limits: Limits | None = None) -> Routed | C:
    routing = RoutingSpec.parse(spec) if spec else None
    try:
        return create("msgspec-json", limits or Limits(), routing).route(payload)
    except ParseError as exc:
        return exc.category


def test_registered_as_a_json_backend_left_out_of_yaml_runs() -> None:
    info = discover()["msgspec-json"]
    assert (info.available, info.kind, info.payload_format) == (True, "typed", "json")
    assert "msgspec-json" not in available_names()
    assert "msgspec-json" in available_names("json")


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        ("{" + IDS + ', "pos": {"x": 1.5}, "tags": ["a", {"b": [1]}]}', ("login", "p-1", "s-1")),
        (
            '{"session_id": "s-\\u0031", "player_id": "p-1", "event_type": "login"}',
            ("login", "p-1", "s-1"),
        ),
        ("\ufeff{" + IDS + "}", ("login", "p-1", "s-1")),
        ("{" + IDS.replace('"s-1"', '"s-\\n1"') + "}", ("login", "p-1", "s-\n1")),
        ('{"event_type": "login", "player_id": "p-1"', C.SYNTAX),  # unclosed
        ("{" + IDS + "} {}", C.SYNTAX),  # trailing data
        ("{" + IDS + ', "x": [1,]}', C.SYNTAX),  # malformed inside a skipped value
        ("{" + IDS + ', "x": "a\x01b"}', C.SYNTAX),  # a raw control character in a string
        ("event_type: login\nplayer_id: p-1\nsession_id: s-1\n", C.SYNTAX),  # YAML, not JSON
        ("", C.SYNTAX),
        ('{"event_type": "login", "player_id": "p-1"}', C.SCHEMA),  # missing field
        ('{"event_type": "login", "player_id": 123, "session_id": "s-1"}', C.SCHEMA),
        ('{"event_type": "login", "player_id": null, "session_id": "s-1"}', C.SCHEMA),
        ('["event_type", "player_id"]', C.SCHEMA),
        ("{" + IDS + ', "player_id": "p-2"}', C.SCHEMA),  # a routing key twice
        ("{" + IDS + ', "player\\u005fid": "p-2"}', C.SCHEMA),  # ... once escaped
        ("{" + IDS + ', "x": {"player_id": "p-2"}, "y": 1, "y": 2}', ("login", "p-1", "s-1")),
    ],
)
def test_routes_and_classifies_as_the_definition_says_in_json(
    payload: str, answer: Routed | C
) -> None:
    assert outcome(payload.encode()) == answer


def test_invalid_utf8_is_encoding() -> None:
    assert (
        outcome(b'{"event_type": "l\xc3\x28", "player_id": "p", "session_id": "s"}') == C.ENCODING
    )


def test_a_spec_with_nested_paths_and_scalar_fields_takes_the_characters_written() -> None:
    spec = "sid:scalar,kind,actor.id,flag:scalar"
    message = '{"kind": "door.open", "actor": {"id": "u-42", "name": "ann"}, "sid": 1.50, '
    assert outcome((message + '"flag": true}').encode(), spec) == (
        "1.50",
        "door.open",
        "u-42",
        "true",
    )
    assert outcome((message + '"flag": "y\\u00e9s"}').encode(), spec)[3] == "yés"
    assert outcome((message + '"flag": null}').encode(), spec) == C.SCHEMA
    assert outcome((message + '"flag": [1]}').encode(), spec) == C.SCHEMA
    twice = message.replace('"name"', '"id"') + '"flag": 1}'
    assert outcome(twice.encode(), spec) == C.SCHEMA  # a nested routing key twice


def test_limits_are_exact() -> None:
    def nested(depth: int) -> bytes:
        return ("{" + IDS + ', "deep": ' + "[" * depth + "]" * depth + "}").encode()

    limits = Limits(max_depth=8)  # the top object counts
    assert outcome(nested(7), limits=limits) == ("login", "p-1", "s-1")
    assert outcome(nested(8), limits=limits) == C.LIMIT
    brackets_in_a_string = ("{" + IDS + ', "x": "' + "[" * 20 + '"}').encode()
    assert outcome(brackets_in_a_string, limits=limits) == ("login", "p-1", "s-1")
    assert outcome(b"[" * 100_000 + b"]" * 100_000) == C.LIMIT
    assert outcome(("{" + IDS + ', "pad": "' + "x" * 2_000_000 + '"}').encode()) == C.LIMIT


@pytest.mark.parametrize("recording", ["smoke.trec", "hostile-mixed.trec"])
def test_answers_as_a_yaml_backend_does_on_the_same_json(recording: str) -> None:
    # given every YAML message of a recording that a safe load can turn into JSON
    with open_recording(RECORDINGS / recording, on_corrupt="skip") as frames:
        documents = []
        for frame in frames:
            try:
                documents.append(yaml.safe_load(frame.payload))
            except yaml.YAMLError:
                continue
    payloads = [json.dumps(d, default=str).encode() for d in documents]
    # when both route the JSON text, then their answers are the same
    yaml_backend = create("pyyaml-dom", Limits())
    json_backend = create("msgspec-json", Limits())
    answers = [(_answer(yaml_backend, p), _answer(json_backend, p)) for p in payloads]
    assert len(payloads) > 5
    assert [p for p, (want, got) in zip(payloads, answers, strict=True) if want != got] == []


def _answer(backend: object, payload: bytes) -> Routed | C:
    try:
        return backend.route(payload)  # type: ignore[attr-defined, no-any-return]
    except ParseError as exc:
        return exc.category
