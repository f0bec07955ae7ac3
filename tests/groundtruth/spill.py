"""Ground-truth backends for the sweep: per-player state of exactly known cost.

`SpillingCache` keeps a block of exactly `block` bytes for each new player, up to
`capacity` players; past that the cache spills and every further player costs 4 × `block`
(the spilled entry's copy, index and padding, say). `LinearCache` costs `block` per player
whatever their number. A sweep over users must find the first's knee at `capacity` with
slopes `block` and 4 × `block` per user, and call the second linear throughout.

Exactly: each block is one bytes object whose allocation asks Python's allocator for
`block` bytes (its header included), filled so its pages are touched and RSS counts them
too. Players are told apart by the number in `player_id: p-N`, in a table allocated when
the backend is built, before any tracer starts: a new player's only allocation is its block.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import ClassVar

from treasure.parsers import BackendKind, Limits, Routed
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

_RECORD: Routed = ("ground.truth", "p-0", "s-0")
_HEADER = sys.getsizeof(b"")  # a bytes object's size beyond its content
_FILL = b"\xa5"
_MARK = b"player_id: p-"
MAX_PLAYERS = 1 << 16
KIB = 1024


def payload_for(player: int) -> bytes:
    return b"event_type: move\n" + _MARK + str(player).encode() + b"\nsession_id: s-1\n"


def write_players_recording(path: Path, players: int) -> Path:
    """One message per player, each player new: a sweep point of N users replays N messages."""
    from treasure.recordings import RecordingWriter

    with RecordingWriter(path, metadata={"scenario": "players", "users": players}) as writer:
        for player in range(players):
            writer.write(player * 1_000_000, f"u-{player}", payload_for(player))
    return path


def _player(payload: bytes) -> int:
    start = payload.index(_MARK) + len(_MARK)
    return int(payload[start : payload.index(b"\n", start)])


class LinearCache:
    """Keeps `block` bytes for every player it has seen."""

    name: ClassVar[str] = "linear-cache"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""
    block: ClassVar[int] = 64 * KIB

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.blocks: list[bytes | None] = [None] * MAX_PLAYERS
        self.players = 0

    def cost(self, players_before: int) -> int:
        """What the next new player's state costs, in bytes."""
        return self.block

    def route(self, payload: bytes) -> Routed:
        player = _player(payload)
        if self.blocks[player] is None:
            self.blocks[player] = _FILL * (self.cost(self.players) - _HEADER)
            self.players += 1
        return _RECORD


class SpillingCache(LinearCache):
    """`block` bytes per player up to `capacity` players, 4 × `block` for each one past it."""

    name: ClassVar[str] = "spilling-cache"
    capacity: ClassVar[int] = 120

    def cost(self, players_before: int) -> int:
        return self.block if players_before < self.capacity else 4 * self.block


class DiesPastCapacity(SpillingCache):
    """Kills its own process when a player past `capacity` arrives, as the kernel's OOM
    killer would a router whose cache outgrew its memory limit."""

    name: ClassVar[str] = "dies-past-capacity"

    def cost(self, players_before: int) -> int:
        if players_before >= self.capacity:
            os._exit(137)
        return self.block
