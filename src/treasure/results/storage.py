"""Result files: written atomically, read back with the schema version and kind checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from treasure.errors import ResultError
from treasure.files import write_bytes
from treasure.results.compare import Result
from treasure.results.run import SCHEMA_VERSION

# RecordingInfo's names in files written before they said what they hold: old -> new.
RENAMED_RECORDING_FIELDS = {
    "frames": "messages_measured",
    "payload_bytes": "payload_bytes_measured",
    "recorded_frames": "frames_in_recording",
}


def save(result: Result, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file, never half of one."""
    write_bytes(path, msgspec.json.format(msgspec.json.encode(result), indent=2))


def to_json(result: Result) -> str:
    return msgspec.json.format(msgspec.json.encode(result), indent=2).decode()


def loads(data: bytes, source: str = "<bytes>") -> Result:
    try:
        header = msgspec.json.decode(data, type=dict[str, object])
    except msgspec.DecodeError as exc:
        raise ResultError(f"{source}: not a treasure result ({exc})") from exc
    except RecursionError:
        raise ResultError(f"{source}: not a treasure result (nested too deeply)") from None
    found = header.get("schema_version")
    if found is None or header.get("kind") not in ("run", "compare"):
        raise ResultError(
            f"{source}: not a treasure result (no schema_version and kind run or compare): "
            "pass a file written by `treasure replay -o` or `treasure compare -o`"
        )
    if found != SCHEMA_VERSION:
        raise ResultError(
            f"{source}: result schema version {found!r}, this treasure reads {SCHEMA_VERSION}"
        )
    try:
        if any(f'"{old}"'.encode() in data for old in RENAMED_RECORDING_FIELDS):
            result: Result = msgspec.convert(_renamed(msgspec.json.decode(data)), type=Result)
        else:
            result = msgspec.json.decode(data, type=Result)
        return result
    except msgspec.ValidationError as exc:
        raise ResultError(f"{source}: invalid result: {exc}") from exc


def _renamed(document: Any) -> Any:
    """An older result document with its recordings' fields under their new names."""
    runs = document.get("runs") if isinstance(document, dict) else None
    holders = [document, *(runs if isinstance(runs, list) else [])]
    for holder in holders:
        recording = holder.get("recording") if isinstance(holder, dict) else None
        if isinstance(recording, dict):
            for old, new in RENAMED_RECORDING_FIELDS.items():
                if old in recording:
                    recording.setdefault(new, recording.pop(old))
    return document


def load(path: Path) -> Result:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultError(f"cannot read result {path}: {exc.strerror}") from exc
    return loads(data, str(path))
