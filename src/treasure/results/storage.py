"""Result files: written atomically, read back with the schema version and kind checked."""

from __future__ import annotations

from pathlib import Path

import msgspec

from treasure.errors import ResultError
from treasure.files import write_bytes
from treasure.results.compare import Result
from treasure.results.run import SCHEMA_VERSION


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
        result: Result = msgspec.json.decode(data, type=Result)
        return result
    except msgspec.ValidationError as exc:
        raise ResultError(f"{source}: invalid result: {exc}") from exc


def load(path: Path) -> Result:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultError(f"cannot read result {path}: {exc.strerror}") from exc
    return loads(data, str(path))
