"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from treasure.recordings import RecordingWriter

ROOT = Path(__file__).resolve().parents[1]

# Worker subprocesses import test-only backends (`tests.groundtruth...`) by module path.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
)

EVENT_MESSAGE = b"""ts: 1712345678901
event_type: player.move
position: {x: 1.5, y: 2.0, z: -3.25, zone: north-ridge}
player_id: p-000123
inventory:
  - &sword {item: sword, qty: 1, attrs: {dmg: 12, rarity: rare, sockets: [ruby, jade]}}
  - {<<: *sword, item: bow, qty: 2}
  - {item: potion, qty: 5, attrs: {heal: 40}}
session_id: s-3f9a1c02
tags: [pvp, ranked, season-7]
"""

MakeRecording = Callable[..., Path]


@pytest.fixture
def make_recording(tmp_path: Path) -> MakeRecording:
    """Write a recording of the given payloads, one user per `users` round-robin."""

    def make(
        payloads: Iterable[bytes],
        *,
        users: int = 10,
        gap_ns: int = 1_000_000,
        name: str = "test.trec",
    ) -> Path:
        path = tmp_path / name
        with RecordingWriter(path, metadata={"scenario": "test", "users": users}) as writer:
            for index, payload in enumerate(payloads):
                writer.write(index * gap_ns, f"u-{index % users}", payload)
        return path

    return make
