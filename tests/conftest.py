"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from treasure.recordings import RecordingWriter
from treasure.testing import EVENT_MESSAGE as EVENT_MESSAGE  # the contract's sample

ROOT = Path(__file__).resolve().parents[1]

# Worker subprocesses import test-only backends (`tests.groundtruth...`) by module path.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
)

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
