"""rust-scan as treasure sees it: registered like the other Rust routers, routing exactly
what the full parser (rust-events) routes, and counting the messages it hands to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, create, discover
from treasure.recordings import open_recording
from treasure.routing import RoutingSpec

treasure_rs = pytest.importorskip("treasure_rs", reason="build it: pip install ./rust")
from treasure_rs import RustScanBackend, ScanRouter  # noqa: E402

pytestmark = pytest.mark.rust

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
EVENT = b"""ts: 1717171717123
inventory:
  - id: it-01414
    attrs: {rarity: epic, tags: [rare, sharp]}
tags: [pvp, night]
player_id: p-007889
event_type: pickup
session_id: "s-3e45\\u0037"
"""
FIELDS = ("pickup", "p-007889", "s-3e457")


def scanner(limits: Limits | None = None) -> ScanRouter:
    return RustScanBackend(limits=limits or Limits())


def outcome(backend: object, payload: bytes) -> tuple[str, ...] | ErrorCategory:
    try:
        return tuple(backend.route(payload))  # type: ignore[attr-defined]
    except ParseError as err:
        return err.category


def test_registered_through_the_entry_point_group() -> None:
    info = discover()["rust-scan"]
    assert info.available, info.problem
    backend = create("rust-scan", Limits())
    assert backend.kind is BackendKind.RUST
    assert backend.route(EVENT) == FIELDS


def test_a_plain_message_is_scanned_without_falling_back() -> None:
    backend = scanner()
    assert backend.route(EVENT) == FIELDS
    assert backend.route(EVENT.replace(b"\n", b"\r\n")) == FIELDS
    assert backend.fallbacks == 0


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (EVENT.replace(b"player_id: p-007889", b"player_id: &p p-007889"), FIELDS),
        (EVENT.replace(b"tags: [pvp", b"tags: [*nowhere, pvp"), ErrorCategory.SYNTAX),
        (b"extra: !!python/object/apply:os.system [echo]\n" + EVENT, ErrorCategory.UNSAFE_TAG),
        (EVENT.replace(b"ts: ", b"ts:\t"), None),
        (EVENT + b"player_id: again\n", None),  # what the full parser says of a duplicate
        (EVENT.replace(b"player_id: p-007889", b"player_id: 42"), ErrorCategory.SCHEMA),
        (b"\xef\xbb\xbf" + EVENT, FIELDS),
    ],
)
def test_what_the_scan_does_not_handle_goes_to_the_full_parser(
    payload: bytes, expected: object
) -> None:
    backend = scanner()
    full = create("rust-events", Limits())
    got = outcome(backend, payload)
    assert got == outcome(full, payload)
    if expected is not None:
        assert got == expected
    assert backend.fallbacks == 1


def test_limits_and_encoding_are_the_full_parsers() -> None:
    # root 1, inventory 2, its item 3, attrs 4, tags 5: the scan counts it, the walk refuses
    shallow, deep_enough = scanner(Limits(max_depth=4)), scanner(Limits(max_depth=5))
    assert outcome(shallow, EVENT) == ErrorCategory.LIMIT
    assert outcome(deep_enough, EVENT) == FIELDS
    assert (shallow.fallbacks, deep_enough.fallbacks) == (1, 0)
    assert outcome(scanner(Limits(max_bytes=64)), EVENT) == ErrorCategory.LIMIT
    assert outcome(scanner(), EVENT.replace(b"pickup", b"pick\xffup")) == ErrorCategory.ENCODING


@pytest.mark.parametrize("recording", ["smoke.trec", "hostile-mixed.trec"])
def test_routes_every_recorded_message_as_the_full_parser_does(recording: str) -> None:
    backend = scanner()
    full = create("rust-events", Limits())
    with open_recording(RECORDINGS / recording) as frames:
        payloads = [frame.payload for frame in frames]
    outcomes = [(outcome(backend, p), outcome(full, p)) for p in payloads]
    assert [p for p, (got, want) in zip(payloads, outcomes, strict=True) if got != want] == []
    # every message the full parser routes was scanned: only refused ones were handed to it
    # (not all of them: an oversized or non-UTF-8 payload is refused before either runs)
    refused = sum(1 for _, want in outcomes if isinstance(want, ErrorCategory))
    assert backend.fallbacks <= refused


def test_anchors_and_merges_in_skipped_values_are_scanned_and_counted() -> None:
    aliases = b"\nagain: *a\nmore:\n  <<: *a\n  own: key\ntags:"
    anchored = EVENT.replace(b"attrs: {", b"attrs: &a {").replace(b"\ntags:", aliases)
    backend = scanner()
    assert backend.route(anchored) == FIELDS
    assert backend.fallbacks == 0
    # a budget the aliases could pass: the full parser decides, and refuses
    tight = scanner(Limits(max_alias_expansion=3))
    assert outcome(tight, anchored) == ErrorCategory.LIMIT
    assert tight.fallbacks == 1


NESTED = b"""kind: login
meta: {region: eu}
actor:
  name: ann
  id: "u-7"   # quoted: a string
sid: 4711
"""


def test_a_spec_with_nested_paths_and_a_scalar_field_is_scanned() -> None:
    spec = RoutingSpec.parse("kind,actor.id,sid:scalar")
    backend = RustScanBackend(routing=spec)
    assert backend.routing == spec
    assert backend.route(NESTED) == ("login", "u-7", "4711")
    assert backend.fallbacks == 0
    assert create("rust-scan", Limits(), spec).route(NESTED) == ("login", "u-7", "4711")
    assert create("rust-events", Limits(), spec).route(NESTED) == ("login", "u-7", "4711")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ((b"  id:", b"  uid:"), ErrorCategory.SCHEMA),  # a missing nested key
        ((b"actor:\n", b"actor: {id: x}\nx:\n"), ("login", "x", "4711")),  # flow on the path
        ((b"sid: 4711", b"sid: ~"), ErrorCategory.SCHEMA),  # a null is no scalar value
        ((b"  name: ann", b"  id: again"), ErrorCategory.SCHEMA),  # a duplicate routing key
    ],
)
def test_what_the_scan_leaves_to_the_full_parser_under_a_spec(
    change: tuple[bytes, bytes], expected: object
) -> None:
    spec = RoutingSpec.parse("kind,actor.id,sid:scalar")
    backend = RustScanBackend(routing=spec)
    payload = NESTED.replace(*change)
    assert outcome(backend, payload) == expected
    assert outcome(create("rust-events", Limits(), spec), payload) == expected
    assert backend.fallbacks == 1
