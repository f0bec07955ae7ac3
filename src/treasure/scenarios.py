"""Scenarios: workload definitions as data (scenarios/NAME.yaml, schema in
docs/scenario-format.md): how many users send what mix of event messages, how big and how
nested they are, how often they use anchors, aliases and merge keys, and at what pace.
`treasure.generator` turns one into a recording.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import yaml

from treasure.errors import ScenarioError
from treasure.routing import RoutingSpec

Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
Range = tuple[NonNegativeInt, NonNegativeInt]

# Words some YAML resolver (1.1 or 1.2) turns into a bool or null: never an event type.
_NOT_PLAIN_STRINGS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


# The vocabulary generated messages draw from; a scenario's shape is bounded by it.
ZONES_A = ("ember", "frost", "gloom", "sun", "tide", "iron", "moss", "storm", "ash", "dune")
ZONES_B = ("reach", "hollow", "keep", "marsh", "spire", "vale", "wharf", "ridge", "gate")
KINDS = ("sword", "shield", "potion", "arrow", "scroll", "gem", "helm", "boots", "ring", "ore")
ATTR_KEYS = ("rarity", "durability", "enchant", "level", "color", "origin", "weight", "bound")
RARITIES = ("common", "uncommon", "rare", "epic", "legendary")
ENCHANTS = ("fire", "frost", "venom", "thunder", "holy", "shadow", "none")
COLORS = ("crimson", "azure", "amber", "jade", "ivory", "onyx", "violet")
TAGS = ("pvp", "pve", "guild", "night", "raid", "trade-hub", "event-x", "newbie", "veteran")


class PayloadSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    target_bytes: Annotated[int, msgspec.Meta(ge=64, le=1 << 20)] = 512
    distribution: Literal["fixed", "uniform", "normal", "lognormal"] = "normal"
    spread: Annotated[float, msgspec.Meta(ge=0.0, le=2.0)] = 0.2


class ShapeSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    inventory_items: Range = (1, 12)
    item_attrs: Range = (1, 4)
    tags: Range = (0, 4)
    zones: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 24


class AliasSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    anchors: Share = 0.0  # messages reusing one item's attrs map through &anchor / *alias
    merge_keys: Share = 0.0  # messages whose items inherit a base item through `<<: *base`


# Top-level keys the generator writes besides the routing fields.
OTHER_KEYS = ("ts", "position", "tags", "inventory")


class FieldsSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where the three routing values sit in generated messages: dotted paths from the
    top-level mapping, as in a routing spec (`kind`, `actor.id`, `meta.session`)."""

    event_type: str = "event_type"
    player_id: str = "player_id"
    session_id: str = "session_id"

    @property
    def paths(self) -> tuple[str, str, str]:
        return (self.event_type, self.player_id, self.session_id)

    @property
    def routing(self) -> RoutingSpec:
        """The spec that routes these messages, in the order event, player, session."""
        return RoutingSpec.parse(",".join(self.paths))


class PacingSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rate_per_s: Annotated[float, msgspec.Meta(gt=0.0)]
    duration_s: Annotated[float, msgspec.Meta(gt=0.0)] | None = None
    count: PositiveInt | None = None
    arrival: Literal["constant", "poisson"] = "constant"
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)


class Scenario(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    description: str = ""
    users: PositiveInt
    seed: int = 0
    events: dict[str, Annotated[float, msgspec.Meta(gt=0.0)]]
    payload: PayloadSpec = msgspec.field(default_factory=PayloadSpec)
    shape: ShapeSpec = msgspec.field(default_factory=ShapeSpec)
    aliases: AliasSpec = msgspec.field(default_factory=AliasSpec)
    fields: FieldsSpec = msgspec.field(default_factory=FieldsSpec)
    pacing: PacingSpec

    @property
    def count(self) -> int:
        """Messages in the scenario's schedule: `count`, else rate × duration."""
        if self.pacing.count is not None:
            return self.pacing.count
        assert self.pacing.duration_s is not None  # validate() guarantees one of the two
        return max(1, round(self.pacing.rate_per_s * self.pacing.duration_s))

    @property
    def start_ns(self) -> int:
        start = self.pacing.start
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return int(start.timestamp()) * 1_000_000_000 + start.microsecond * 1000


def validate(scenario: Scenario, origin: str) -> Scenario:
    """Checks the schema types cannot express; raises ScenarioError naming the field."""

    def fail(message: str) -> ScenarioError:
        return ScenarioError(f"{origin}: {message}")

    if not scenario.events:
        raise fail("events: needs at least one event type with a weight")
    for event in scenario.events:
        if not _EVENT_NAME.fullmatch(event) or event in _NOT_PLAIN_STRINGS:
            raise fail(
                f"events: {event!r} is not a plain lowercase name YAML reads as a string "
                "(letters, digits, '-', '_'; not yes/no/on/off/true/false/null)"
            )
    for label, (low, high) in (
        ("shape.inventory_items", scenario.shape.inventory_items),
        ("shape.item_attrs", scenario.shape.item_attrs),
        ("shape.tags", scenario.shape.tags),
    ):
        if low > high:
            raise fail(f"{label}: [min, max] has min {low} above max {high}")
    if not 1 <= scenario.shape.item_attrs[0] <= scenario.shape.item_attrs[1] <= len(ATTR_KEYS):
        raise fail(f"shape.item_attrs: between 1 and {len(ATTR_KEYS)} attributes per item")
    if scenario.shape.tags[1] > len(TAGS):
        raise fail(f"shape.tags: at most {len(TAGS)} tags per message")
    if scenario.aliases.anchors + scenario.aliases.merge_keys > 1.0:
        raise fail("aliases: anchors + merge_keys must not exceed 1.0")
    if (scenario.aliases.anchors or scenario.aliases.merge_keys) and (
        scenario.shape.inventory_items[1] < 2
    ):
        raise fail("aliases: anchors and merge keys need shape.inventory_items max >= 2")
    _validate_fields(scenario.fields, fail)
    if scenario.pacing.count is None and scenario.pacing.duration_s is None:
        raise fail("pacing: give either count or duration_s (with rate_per_s)")
    return scenario


def _validate_fields(fields: FieldsSpec, fail: Callable[[str], ScenarioError]) -> None:
    try:
        routing = fields.routing
    except ValueError as exc:
        raise fail(f"fields: {exc}") from None
    for field in routing.fields:
        if field.path[0] in OTHER_KEYS:
            raise fail(
                f"fields: {field.dotted!r} collides with the generated key {field.path[0]!r}"
            )
        if any(step.lower() in _NOT_PLAIN_STRINGS or not _EVENT_NAME.fullmatch(step)
               for step in field.path):  # fmt: skip
            raise fail(
                f"fields: {field.dotted!r}: each key a plain lowercase name YAML reads as a string"
            )


def parse_scenario(text: str, origin: str) -> Scenario:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())
        raise ScenarioError(f"{origin}: not valid YAML: {first}") from None
    if not isinstance(document, dict):
        raise ScenarioError(f"{origin}: a scenario is a YAML mapping (name, users, events, ...)")
    try:
        scenario = msgspec.convert(document, Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{origin}: {exc}") from None
    return validate(scenario, origin)


def _builtin_dirs() -> list[Path]:
    dirs = [Path.cwd() / "scenarios", Path(__file__).resolve().parents[2] / "scenarios"]
    shipped = resources.files("treasure") / "_scenarios"
    if isinstance(shipped, Path):
        dirs.append(shipped)
    return dirs


def scenario_names() -> list[str]:
    """Names `load_scenario` resolves, from every place it looks."""
    folders = [folder for folder in _builtin_dirs() if folder.is_dir()]
    return sorted({path.stem for folder in folders for path in folder.glob("*.yaml")})


def resolve_scenario(name_or_path: str) -> Path:
    """A path is used as given; a NAME is looked up in ./scenarios, the checkout, the wheel."""
    given = Path(name_or_path)
    if given.suffix in (".yaml", ".yml") or os.sep in name_or_path or given.is_file():
        if not given.is_file():
            raise ScenarioError(f"{given}: no such scenario file")
        return given
    for folder in _builtin_dirs():
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    known = ", ".join(scenario_names()) or "none found"
    raise ScenarioError(f"unknown scenario {name_or_path!r} (known: {known})")


def load_scenario(name_or_path: str) -> Scenario:
    path = resolve_scenario(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    return parse_scenario(text, str(path))
