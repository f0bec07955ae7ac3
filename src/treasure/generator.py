"""The generator: a scenario turned into a recording, deterministically and fast.

The same scenario and seed give byte-identical messages. YAML is emitted by string
building from pools of pre-rendered fragments, which is what makes it fast enough for soak
workloads; generation streams, so a 30-minute soak schedule never sits in memory.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treasure.recordings import RecordingWriter
from treasure.scenarios import (
    ATTR_KEYS,
    COLORS,
    ENCHANTS,
    KINDS,
    RARITIES,
    TAGS,
    ZONES_A,
    ZONES_B,
    FieldsSpec,
    PayloadSpec,
    Scenario,
    ShapeSpec,
)

_POOL = 2048  # pre-rendered fragments of each kind; plenty of variety, cheap to pick


def _attr_value(key: str, rng: random.Random) -> str:
    if key == "rarity":
        return rng.choice(RARITIES)
    if key == "durability":
        return str(rng.randint(0, 100))
    if key == "enchant":
        return rng.choice(ENCHANTS)
    if key == "level":
        return str(rng.randint(1, 80))
    if key == "color":
        return rng.choice(COLORS)
    if key == "origin":
        return f"{rng.choice(ZONES_A)}-{rng.choice(ZONES_B)}"
    if key == "weight":
        return f"{rng.uniform(0.1, 40.0):.2f}"
    return rng.choice(("account", "character", "unbound"))


@dataclass(frozen=True, slots=True)
class _Item:
    fields: str  # "id: ...\n    kind: ...\n    qty: N\n" (first line unindented)
    attrs: str  # the attrs map's lines, indented under "    attrs:"
    override: str  # "id: ...\n    qty: N\n" for an item that merges a base item

    def plain(self) -> str:
        return f"  - {self.fields}    attrs:\n{self.attrs}"


def _items_pool(rng: random.Random, shape: ShapeSpec) -> list[_Item]:
    low, high = shape.item_attrs
    pool = []
    for n in range(_POOL):
        kind = rng.choice(KINDS)
        quantity = rng.randint(1, 99) if kind in ("potion", "arrow", "ore", "gem") else 1
        keys = rng.sample(ATTR_KEYS, rng.randint(low, high))
        attrs = "".join(f"      {key}: {_attr_value(key, rng)}\n" for key in keys)
        item_id = f"it-{n:05d}"
        pool.append(
            _Item(
                fields=f"id: {item_id}\n    kind: {kind}\n    qty: {quantity}\n",
                attrs=attrs,
                override=f"id: {item_id}x\n    qty: {rng.randint(1, 99)}\n",
            )
        )
    return pool


def _positions_pool(rng: random.Random, zones: list[str]) -> list[str]:
    return [
        f"position:\n  x: {rng.uniform(-2000, 2000):.2f}\n  y: {rng.uniform(-2000, 2000):.2f}\n"
        f"  z: {rng.uniform(0, 300):.2f}\n  zone: {rng.choice(zones)}\n"
        for _ in range(_POOL)
    ]


def _tags_pool(rng: random.Random, shape: ShapeSpec) -> list[str]:
    low, high = shape.tags
    pool = []
    for _ in range(_POOL):
        tags = rng.sample(TAGS, rng.randint(low, high))
        pool.append(f"tags: [{', '.join(tags)}]\n")
    return pool


def _target_sampler(spec: PayloadSpec, rng: random.Random) -> Callable[[], float]:
    target, spread = float(spec.target_bytes), spec.spread
    if spec.distribution == "fixed" or spread == 0:
        return lambda: target
    if spec.distribution == "uniform":
        return lambda: target * (1 + spread * (2 * rng.random() - 1))
    if spec.distribution == "normal":
        return lambda: rng.gauss(target, spread * target)
    shift = spread * spread / 2  # keeps the lognormal's mean at the target
    return lambda: target * math.exp(rng.gauss(0.0, spread) - shift)


class MessageGenerator:
    """Yields (timestamp_ns, user_id, payload) for a scenario, deterministic per seed."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        setup = random.Random(f"{self.seed}:fragments")
        zones = [f"{a}-{b}" for a in ZONES_A for b in ZONES_B]
        setup.shuffle(zones)
        self._items = _items_pool(setup, scenario.shape)
        self._positions = _positions_pool(setup, zones[: scenario.shape.zones])
        self._tags = _tags_pool(setup, scenario.shape)
        self._orders = list(itertools.permutations(range(6)))
        names = list(scenario.events)
        self._fields = scenario.fields.paths
        self._event_lines = [_field_lines(self._fields[0], name) for name in names]
        self._event_cumulative = list(itertools.accumulate(scenario.events[n] for n in names))
        self._plain_items = [item.plain() for item in self._items]
        self._plain_sizes = [len(text) for text in self._plain_items]
        self._users = scenario.users

    def _user(self, user: int) -> tuple[str, str, str]:
        """(user id, player_id line, session_id line) of one user; rendered per message so
        memory stays flat however many users a scenario has."""
        user_id = f"p-{user:06d}"
        session = (
            f"s-{zlib.crc32(b'%d:%d' % (self.seed, user)):08x}"
            f"{zlib.crc32(b'%d:%d' % (user, self.seed)) & 0xFFFF:04x}"
        )
        player_path, session_path = self._fields[1], self._fields[2]
        if player_path.partition(".")[0] == session_path.partition(".")[0] != player_path:
            # both under one mapping (`actor.id`, `actor.session`): written once, together
            return user_id, _nested_lines({player_path: user_id, session_path: session}), ""
        return user_id, _field_lines(player_path, user_id), _field_lines(session_path, session)

    def messages(self, count: int | None = None) -> Iterator[tuple[int, str, bytes]]:
        scenario = self.scenario
        rng = random.Random(self.seed)
        rnd = rng.random
        total = scenario.count if count is None else count
        target = _target_sampler(scenario.payload, rng)
        interval = 1e9 / scenario.pacing.rate_per_s
        poisson = scenario.pacing.arrival == "poisson"
        start = scenario.start_ns
        anchor_share = scenario.aliases.anchors
        merge_share = anchor_share + scenario.aliases.merge_keys
        positions, tags, orders = self._positions, self._tags, self._orders
        cumulative, event_lines = self._event_cumulative, self._event_lines
        render_user = self._user
        inventory = self._inventory
        weight_total = cumulative[-1]
        users, pool, n_orders = self._users, _POOL, len(orders)
        clock = 0.0
        for index in range(total):
            if poisson:
                clock += rng.expovariate(1.0) * interval
            else:
                clock = index * interval
            timestamp_ns = start + int(clock)
            user = int(rnd() * users)
            user_id, player_line, session_line = render_user(user)
            sections = (
                event_lines[bisect.bisect_right(cumulative, rnd() * weight_total)],
                player_line,
                session_line,
                f"ts: {timestamp_ns // 1_000_000}\n",
                positions[int(rnd() * pool)],
                tags[int(rnd() * pool)],
            )
            budget = target() - 11 - sum(map(len, sections))  # 11: "inventory:\n"
            style = rnd()
            items = inventory(
                budget, rnd, 1 if style < anchor_share else 2 if style < merge_share else 0
            )
            parts = [sections[i] for i in orders[int(rnd() * n_orders)]]
            parts.insert(int(rnd() * 7), items)
            yield timestamp_ns, user_id, "".join(parts).encode("ascii")

    def _inventory(self, budget: float, rnd: Callable[[], float], style: int) -> str:
        """The inventory section: items until the size budget; style 1 anchors, 2 merges."""
        low, high = self.scenario.shape.inventory_items
        plain, sizes, pool = self._plain_items, self._plain_sizes, _POOL
        chosen = [int(rnd() * pool) for _ in range(low)]
        spent = sum(sizes[i] for i in chosen)
        while len(chosen) < high:
            pick = int(rnd() * pool)
            if spent + sizes[pick] / 2 > budget:  # stop nearest the target: no upward bias
                break
            chosen.append(pick)
            spent += sizes[pick]
        if not chosen:
            return "inventory: []\n"
        if style and len(chosen) >= 2:
            first, second = self._items[chosen[0]], self._items[chosen[1]]
            rest = "".join([plain[i] for i in chosen[2:]])
            if style == 1:
                return (
                    f"inventory:\n  - {first.fields}    attrs: &attrs\n{first.attrs}"
                    f"  - {second.fields}    attrs: *attrs\n{rest}"
                )
            return (
                f"inventory:\n  - &base\n    {first.fields}    attrs:\n{first.attrs}"
                f"  - <<: *base\n    {second.override}{rest}"
            )
        return "inventory:\n" + "".join([plain[i] for i in chosen])


def _field_lines(path: str, value: str) -> str:
    """`key: value` at `path`: nested block mappings for a dotted path."""
    return _nested_lines({path: value})


def _nested_lines(values: dict[str, str]) -> str:
    tree: dict[str, Any] = {}
    for path, value in values.items():
        node = tree
        *parents, leaf = path.split(".")
        for step in parents:
            node = node.setdefault(step, {})
        node[leaf] = value
    return "".join(_render(tree, 0))


def _render(tree: dict[str, Any], depth: int) -> Iterator[str]:
    indent = "  " * depth
    for key, value in tree.items():
        if isinstance(value, dict):
            yield f"{indent}{key}:\n"
            yield from _render(value, depth + 1)
        else:
            yield f"{indent}{key}: {value}\n"


@dataclass(frozen=True, slots=True)
class GenerateSummary:
    path: str
    scenario: str
    seed: int
    frames: int
    payload_bytes: int
    file_bytes: int
    users: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "scenario": self.scenario,
            "seed": self.seed,
            "frames": self.frames,
            "payload_bytes": self.payload_bytes,
            "file_bytes": self.file_bytes,
            "users": self.users,
        }


def generate_recording(
    scenario: Scenario,
    path: str | os.PathLike[str],
    *,
    count: int | None = None,
    seed: int | None = None,
    compress: bool = False,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> GenerateSummary:
    """Write a scenario's traffic to a recording, streaming; `progress(frames)` as it goes.

    The recording's created_at is the scenario's pacing start, so the same scenario and
    seed give a byte-identical file.
    """
    generator = MessageGenerator(scenario, seed=seed)
    total = scenario.count if count is None else count
    metadata = {
        "scenario": scenario.name,
        "users": scenario.users,
        "seed": generator.seed,
        "source": "generate",
        "count": total,
        "rate_per_s": scenario.pacing.rate_per_s,
    }
    if scenario.fields != FieldsSpec():  # the default spec is implied: old files stay equal
        metadata["routing"] = str(scenario.fields.routing)
    created_at = datetime.fromtimestamp(scenario.start_ns / 1e9, UTC)
    stamp = created_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    with RecordingWriter(
        path, metadata=metadata, compress=compress, created_at=stamp, buffer_bytes=1 << 18
    ) as out:
        write = out.write
        for written, (timestamp_ns, user_id, payload) in enumerate(
            generator.messages(total), start=1
        ):
            write(timestamp_ns, user_id, payload)
            if progress is not None and written % progress_every == 0:
                progress(written)
        frames, payload_bytes = out.frames, out.payload_bytes
    if progress is not None:
        progress(frames)
    return GenerateSummary(
        path=str(path),
        scenario=scenario.name,
        seed=generator.seed,
        frames=frames,
        payload_bytes=payload_bytes,
        file_bytes=Path(path).stat().st_size,
        users=scenario.users,
    )
