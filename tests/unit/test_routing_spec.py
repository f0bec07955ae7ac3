"""The routing spec's text form: what a user types after --route."""

from __future__ import annotations

import pytest

from treasure.routing import DEFAULT_ROUTING, FieldKind, RouteField, RoutingSpec


def test_parse_keeps_order_paths_and_kinds() -> None:
    # given a spec with a nested path and a scalar field
    spec = RoutingSpec.parse("kind, actor.id,meta.seq:scalar")
    # then the fields come in order, split on dots, with their kinds
    assert spec.fields == (
        RouteField(("kind",)),
        RouteField(("actor", "id")),
        RouteField(("meta", "seq"), FieldKind.SCALAR),
    )
    assert spec.names == ("kind", "actor.id", "meta.seq")
    assert RoutingSpec.parse(str(spec)) == spec


def test_default_is_the_three_fields_of_the_built_in_messages() -> None:
    assert DEFAULT_ROUTING.names == ("event_type", "player_id", "session_id")
    assert all(field.kind is FieldKind.STRING for field in DEFAULT_ROUTING.fields)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty field"),
        ("a,,b", "empty field"),
        ("a..b", "bad field path"),
        ("a,a", "named twice"),
        ("meta,meta.id", "is a field and the mapping"),
        ("a:number", "unknown kind"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RoutingSpec.parse(text)
