"""The Rust backends as treasure sees them: registered through the entry-point group,
constructed with Limits and a routing spec, routing the same record as the DOM loaders.

The two measurement tests print figures (run with `-s`); they assert only correctness.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from importlib.metadata import version

import pytest
import yaml

from treasure.parsers import (
    BackendKind,
    ErrorCategory,
    Limits,
    ParseError,
    Routed,
    create,
    discover,
    route_from_document,
)
from treasure.routing import RoutingSpec

treasure_rs = pytest.importorskip("treasure_rs", reason="build it: pip install ./rust")
from treasure_rs import _native  # noqa: E402

pytestmark = pytest.mark.rust

TREASURE_RS = ("rust-serde", "rust-events")
RUST_BACKENDS = (*TREASURE_RS, "rust-fastyaml")

# A ~512-byte event message: routing fields first, as a router's producer writes them.
EVENT = b"""event_type: player.item_pickup
player_id: p-000482913
session_id: s-7f3a9c2e-41d8
ts: 1717171717123
position: {x: 1042.75, y: -311.5, z: 12.25, zone: harbor-east}
inventory:
  - {item: sword-of-dawn, qty: 1, attrs: {dmg: 42, dur: 0.93, rarity: epic, sockets: [ruby, jade]}}
  - {item: potion-hp, qty: 3, attrs: {heal: 50, stack: 20}}
  - {item: arrow-fire, qty: 64, attrs: {dmg: 7, burn: 3, rarity: rare}}
  - {item: map-fragment, qty: 1, attrs: {region: north-ridge, piece: 3}}
tags: [pvp, night, ranked, season-7, event-42]
"""
EXPECTED: Routed = ("player.item_pickup", "p-000482913", "s-7f3a9c2e-41d8")
# The same message with the routing fields last: a stop-early walker reads all of it.
EVENT_FIELDS_LAST = b"\n".join(EVENT.split(b"\n")[3:]) + b"\n".join(EVENT.split(b"\n")[:3]) + b"\n"


@pytest.mark.parametrize("name", TREASURE_RS)
def test_registered_through_the_entry_point_group(name: str) -> None:
    # when the registry is read
    info = discover()[name]
    # then the compiled backend is there, as a third-party plugin would be
    assert info.available, info.problem
    assert info.kind == BackendKind.RUST
    assert info.library == "treasure-rs"
    assert info.version == version("treasure-rs")


@pytest.mark.parametrize("name", RUST_BACKENDS)
@pytest.mark.parametrize("payload", [EVENT, EVENT_FIELDS_LAST], ids=["fields-first", "fields-last"])
def test_routes_the_record_a_safe_loader_reads(name: str, payload: bytes) -> None:
    # given the DOM loader's reading of the message
    reference = route_from_document(yaml.load(payload, Loader=yaml.CSafeLoader))
    # when the Rust backend routes it
    routed = create(name, Limits()).route(payload)
    # then it is the same record, of the contract's type
    assert type(routed) is tuple
    assert routed == reference == EXPECTED


@pytest.mark.parametrize("name", TREASURE_RS)
def test_limits_reach_the_native_router(name: str) -> None:
    # given limits unlike the defaults
    limits = Limits(max_bytes=4096, max_depth=5, max_alias_expansion=77)
    # when the backend is built through the registry
    backend = create(name, limits)
    # then the native side holds exactly those limits
    assert backend.limits == limits  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", RUST_BACKENDS)
@pytest.mark.parametrize(
    ("limits", "payload"),
    [
        (Limits(max_bytes=100), EVENT),
        (Limits(max_depth=3), b"a: [[[[1]]]]\n" + EVENT),
        (Limits(max_alias_expansion=5), b"a: &a [1, 2, 3]\nb: [*a, *a]\n" + EVENT),
    ],
    ids=["bytes", "depth", "alias-expansion"],
)
def test_each_limit_is_enforced(name: str, limits: Limits, payload: bytes) -> None:
    # given a backend with one tight limit, when a message passes it
    with pytest.raises(ParseError) as caught:
        create(name, limits).route(payload)
    # then it is refused as a limit
    assert caught.value.category is ErrorCategory.LIMIT, caught.value


# A message of another schema, fields nested and not named as treasure's own.
OTHER_SCHEMA = b"""sid: s-1
kind: tap
actor: {name: ann, id: a-9}
meta:
  seq: 0x1F
  at: 2024-05-01 10:00
"""


@pytest.mark.parametrize("name", TREASURE_RS)
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("kind,actor.id,sid", ("tap", "a-9", "s-1")),
        ("sid,kind", ("s-1", "tap")),
        ("meta.seq:scalar,meta.at", ("0x1F", "2024-05-01 10:00")),
    ],
)
def test_the_routing_spec_is_taken_at_construction(name: str, spec: str, expected: Routed) -> None:
    # given a backend built with a spec of nested paths and kinds
    routing = RoutingSpec.parse(spec)
    backend = create(name, Limits(), routing)
    # when it routes a message of that schema
    routed = backend.route(OTHER_SCHEMA)
    # then it returns the fields' strings in the spec's order, and keeps the spec
    assert routed == expected
    assert backend.routing == routing  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", TREASURE_RS)
def test_a_string_field_holding_another_type_is_a_schema_error(name: str) -> None:
    backend = create(name, Limits(), RoutingSpec.parse("meta.seq"))
    with pytest.raises(ParseError) as caught:
        backend.route(OTHER_SCHEMA)
    assert caught.value.category is ErrorCategory.SCHEMA, caught.value


def test_a_spec_with_an_unknown_kind_is_refused_at_construction() -> None:
    class Field:
        path = ("a",)
        kind = "int"

    class Spec:
        fields = (Field(),)

    with pytest.raises(ValueError, match="kind"):
        _native.EventsRouter(routing=Spec())  # type: ignore[arg-type]


def test_fastyaml_loads_the_whole_document() -> None:
    # given the fastyaml-rs backend, when it loads the message
    document = create("rust-fastyaml", Limits()).load(EVENT)  # type: ignore[attr-defined]
    # then it is the tree PyYAML's safe loader builds
    assert document == yaml.load(EVENT, Loader=yaml.CSafeLoader)


def test_a_panic_becomes_a_labelled_parse_error() -> None:
    # when native code panics behind the guard every route call runs in
    with pytest.raises(ParseError) as caught:
        _native._panic_for_test("deliberate")
    # then Python sees the contract's exception, labelled, not a PanicException
    assert "internal panic in treasure-rs: deliberate" in caught.value.detail


def _median_ns_per_call(route: Callable[[bytes], object], payload: bytes, calls: int) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(calls):
            route(payload)
        runs.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(runs)


@pytest.mark.integration  # a measurement: several seconds on a shared 2-core machine
def test_per_message_cost_against_csafeloader() -> None:
    """Prints µs/msg (median of 5 runs) of each Rust backend and of yaml.load(CSafeLoader)."""

    def csafe(payload: bytes) -> Routed:
        return route_from_document(yaml.load(payload, Loader=yaml.CSafeLoader))

    routes: dict[str, Callable[[bytes], object]] = {"pyyaml CSafeLoader": csafe}
    for name in RUST_BACKENDS:
        routes[name] = create(name, Limits()).route
    gil_kept = _native.SerdeRouter(release_gil_min_bytes=1 << 30)
    routes["rust-serde, GIL kept"] = gil_kept.route
    print(f"\n{len(EVENT)}-byte message, median of 5 runs:")
    for label, payload in (("fields first", EVENT), ("fields last", EVENT_FIELDS_LAST)):
        baseline = _median_ns_per_call(csafe, payload, 60)
        for name, route in routes.items():
            routed = route(payload)
            assert routed == EXPECTED
            cost = baseline if route is csafe else _median_ns_per_call(route, payload, 300)
            print(f"  {label:12} {name:24} {cost / 1000:8.2f} µs/msg  {baseline / cost:6.1f}x")


def _throughput(route: Callable[[bytes], object], payload: bytes, threads: int) -> float:
    """Messages per second with `threads` threads routing `calls` messages each."""
    calls = 400
    workers = [
        threading.Thread(target=lambda: [route(payload) for _ in range(calls)])
        for _ in range(threads)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * calls / (time.perf_counter() - start)


@pytest.mark.integration  # a measurement: several seconds on a shared 2-core machine
@pytest.mark.parametrize("name", TREASURE_RS)
def test_two_threads_route_concurrently(name: str) -> None:
    """Prints the 2-thread / 1-thread throughput ratio (median of 3), GIL released vs kept."""
    payload = EVENT_FIELDS_LAST
    router_type = _native.SerdeRouter if name == "rust-serde" else _native.EventsRouter
    for label, keep_from in (("GIL released", 0), ("GIL kept", 1 << 30)):
        router = router_type(release_gil_min_bytes=keep_from)
        route = router.route
        assert route(payload) == EXPECTED
        ratios = [_throughput(route, payload, 2) / _throughput(route, payload, 1) for _ in range(5)]
        print(f"\n{name} {label}: 2 threads / 1 thread = {statistics.median(ratios):.2f}x")
