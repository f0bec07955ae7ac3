"""The native sender: a Rust binary (rust/loadgen) that Python drives. Not built yet."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from treasure.targets.address import Address
from treasure.targets.figures import TargetFigures


def native_sender_path() -> Path | None:
    found = shutil.which("treasure-loadgen")
    return Path(found) if found else None


def send_native(
    run: object,
    address: Address,
    payloads: list[bytes],
    figures: TargetFigures,
    stop: threading.Event,
) -> None:
    raise NotImplementedError
