"""Importers: turn captured traffic (YAML streams, JSON Lines, GoReplay .gor files) into a
recording.

Payloads are never parsed as YAML here: a captured message may be malformed or hostile,
and replay is where it gets classified. YAML streams are split at document markers on
raw bytes, so every payload is kept byte for byte.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from treasure.capture import CaptureError, Direction, Framing, read_capture
from treasure.errors import TreasureError
from treasure.recordings import MAX_PAYLOAD_BYTES, RecordingWriter

Format = Literal["auto", "yaml", "jsonl", "gor", "pcap"]
TimestampUnit = Literal["s", "ms", "us", "ns"]
UNIT_NS: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
DEFAULT_USER_PATTERN = r"""(?m)^[ \t]*player_id:[ \t]*["']?([A-Za-z0-9_.:@-]+)"""
UNKNOWN_USER = "unknown"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
GOR_SEPARATOR = "\U0001f435\U0001f648\U0001f649\n".encode()  # GoReplay's record separator line
GOR_REQUEST = b"1"  # record types: 1 request, 2 response, 3 replayed response


class SourceError(TreasureError):
    """A source file that cannot be imported: missing, unreadable, or not valid JSON Lines."""


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """One message as found in a source, before it gets a timestamp and user for sure."""

    source: str
    line: int
    payload: bytes
    timestamp_ns: int | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImportOptions:
    format: Format = "auto"
    payload_field: str = "payload"
    timestamp_field: str = "ts"
    user_field: str = "user"
    timestamp_unit: TimestampUnit = "s"
    rate_per_s: float = 1000.0  # pace given to messages that carry no timestamp
    user_pattern: str = DEFAULT_USER_PATTERN
    user_path: str = ""  # a routing-spec path (`actor.id`) read for the user id, instead
    routing: str = ""  # the routing spec recorded in the header ("": none given)
    capture_framing: Framing = "length"  # pcap: 4-byte big-endian prefixes, or lines
    capture_direction: Direction = "client"  # pcap: which side's bytes are the messages


@dataclass(frozen=True, slots=True)
class ImportSummary:
    path: str
    frames: int
    payload_bytes: int
    users: int
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "frames": self.frames,
            "payload_bytes": self.payload_bytes,
            "users": self.users,
            "sources": list(self.sources),
        }


def _is_marker(line: bytes, marker: bytes) -> bool:
    return line.startswith(marker) and (len(line) == 3 or line[3:4] in (b" ", b"\t", b"\r", b"\n"))


def _only(lines: list[bytes], *, directives: bool) -> bool:
    """Whether `lines` hold nothing but blanks and comments (and directives if allowed)."""
    for line in lines:
        text = line.strip()
        if text and not text.startswith(b"#") and not (directives and text.startswith(b"%")):
            return False
    return True


def split_yaml_stream(stream: BinaryIO, source: str) -> Iterator[SourceMessage]:
    """Split a YAML multi-document stream at `---` and `...` lines, without parsing it.

    A bare `---` line is a separator; a `--- text` line starts its document and stays in
    its payload. Directives (`%YAML`) go with the document they precede. Blank or
    comment-only documents are skipped; anything else, however malformed, is kept as is.
    """
    lines: list[bytes] = []
    first_line = size = 0
    for number, line in enumerate(stream, start=1):
        start = _is_marker(line, b"---")
        if start or _is_marker(line, b"..."):
            directives_pending = not _only(lines, directives=False) and _only(
                lines, directives=True
            )
            keep = start and (directives_pending or _has_content(line[3:]))
            if not (start and directives_pending):
                if not _only(lines, directives=False):
                    yield SourceMessage(source, first_line, b"".join(lines))
                lines, size = [], 0
            if not keep:
                continue
        if not lines:
            first_line = number
        lines.append(line)
        size += len(line)
        if size > MAX_PAYLOAD_BYTES:
            raise SourceError(f"{source}:{first_line}: document over {MAX_PAYLOAD_BYTES} bytes")
    if not _only(lines, directives=False):
        yield SourceMessage(source, first_line, b"".join(lines))


def _has_content(rest: bytes) -> bool:
    text = rest.strip()
    return bool(text) and not text.startswith(b"#")


def _payload_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates in JSON carry bytes that were not UTF-8 in the capture.
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "surrogatepass")


def _timestamp_ns(value: Any, unit: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SourceError(f"{where}: timestamp must be a number or ISO 8601 text, not {value!r}")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise SourceError(f"{where}: timestamp {value!r} is not ISO 8601") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    if isinstance(value, int):
        return value * UNIT_NS[unit]
    return round(value * UNIT_NS[unit])


def read_jsonl(stream: BinaryIO, source: str, options: ImportOptions) -> Iterator[SourceMessage]:
    """One message per JSON object line; blank lines are skipped."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise SourceError(f"{where}: invalid JSON: {exc}") from None
        if not isinstance(record, dict):
            raise SourceError(f"{where}: expected a JSON object, got {type(record).__name__}")
        payload = record.get(options.payload_field)
        if not isinstance(payload, str):
            raise SourceError(f"{where}: no text field {options.payload_field!r}")
        stamp = record.get(options.timestamp_field)
        user = record.get(options.user_field)
        yield SourceMessage(
            source,
            number,
            _payload_bytes(payload),
            None if stamp is None else _timestamp_ns(stamp, options.timestamp_unit, where),
            None if user is None else str(user),
        )


def read_gor(stream: BinaryIO, source: str) -> Iterator[SourceMessage]:
    """GoReplay's text format: records split by the monkeys line; a record's first line is
    `TYPE ID TIMESTAMP-NS ...`, then the HTTP message. Requests only; payload = body."""
    line = 1
    for record in (b"\n" + stream.read()).split(b"\n" + GOR_SEPARATOR):  # ends every record
        record = record.removeprefix(b"\n") if line == 1 else record
        start_line, line = line, line + record.count(b"\n") + 2
        header, _, message = record.partition(b"\n")
        fields = header.split()
        if not fields or fields[0] != GOR_REQUEST:
            continue
        if len(fields) < 3 or not fields[2].isdigit():
            raise SourceError(f"{source}:{start_line}: not a GoReplay header: {header[:80]!r}")
        _, found, body = message.partition(b"\r\n\r\n")
        if not found:
            _, found, body = message.partition(b"\n\n")
        if not found:
            raise SourceError(f"{source}:{start_line}: HTTP request without a blank line")
        yield SourceMessage(source, start_line, body, timestamp_ns=int(fields[2]))


def read_pcap(stream: BinaryIO, source: str, options: ImportOptions) -> Iterator[SourceMessage]:
    try:
        frames = read_capture(stream, options.capture_framing, options.capture_direction)
        for number, (timestamp_ns, payload) in enumerate(frames, start=1):
            yield SourceMessage(source, number, payload, timestamp_ns=timestamp_ns)
    except CaptureError as exc:
        raise SourceError(f"{source}: {exc}") from None


def source_format(path: Path, options: ImportOptions) -> Literal["yaml", "jsonl", "gor", "pcap"]:
    if options.format != "auto":
        return options.format
    if path.suffix.lower() == ".gor":
        return "gor"
    if path.suffix.lower() in CAPTURE_SUFFIXES:
        return "pcap"
    return "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "yaml"


def read_sources(paths: Iterable[Path], options: ImportOptions) -> Iterator[SourceMessage]:
    for path in paths:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
        with stream:
            kind = source_format(path, options)
            if kind == "jsonl":
                yield from read_jsonl(stream, str(path), options)
            elif kind == "gor":
                yield from read_gor(stream, str(path))
            elif kind == "pcap":
                yield from read_pcap(stream, str(path), options)
            else:
                yield from split_yaml_stream(stream, str(path))


def resolved(
    messages: Iterable[SourceMessage], options: ImportOptions
) -> Iterator[tuple[int, str, bytes]]:
    """Give every message a timestamp and a user id: its own, or found, or made up."""
    try:
        pattern = re.compile(options.user_pattern.encode("utf-8"))
    except re.error as exc:
        raise SourceError(f"--user-pattern {options.user_pattern!r}: {exc}") from None
    step = round(1e9 / options.rate_per_s)
    user_of = _user_reader(options.user_path)
    previous: int | None = None
    for message in messages:
        timestamp = message.timestamp_ns
        if timestamp is None:
            timestamp = 0 if previous is None else previous + step
        previous = timestamp
        user = message.user_id
        if user is None and user_of is not None:
            user = user_of(message.payload)
        elif user is None:
            found = pattern.search(message.payload)
            user = found.group(found.lastindex or 0).decode("utf-8", "replace") if found else None
        yield timestamp, user or UNKNOWN_USER, message.payload


def _user_reader(path: str) -> Callable[[bytes], str | None] | None:
    """The user id at a field path, read by the routing backend that builds no tree and
    constructs nothing (a hostile payload is only classified; it gives no user)."""
    if not path:
        return None
    from treasure.parsers import Limits, ParseError, create
    from treasure.routing import RoutingSpec

    try:
        spec = RoutingSpec.parse(f"{path}:scalar")
    except ValueError as exc:
        raise SourceError(f"--user-path {path!r}: {exc}") from None
    backend = create("pyyaml-stream", Limits(), spec)

    def user_of(payload: bytes) -> str | None:
        try:
            return backend.route(payload)[0]
        except ParseError:
            return None

    return user_of


def import_sources(
    paths: list[Path],
    output: str | os.PathLike[str],
    *,
    options: ImportOptions | None = None,
    compress: bool = False,
) -> ImportSummary:
    """Read the sources twice: once to check them and count users, once to write."""
    options = options or ImportOptions()
    users: set[str] = set()
    for _, user, _ in resolved(read_sources(paths, options), options):
        users.add(user)
    metadata = {
        "scenario": "",
        "users": len(users),
        "source": "import",
        "sources": [str(path) for path in paths],
    }
    if options.routing:
        metadata["routing"] = options.routing  # the spec these messages are routed by
    with RecordingWriter(output, metadata=metadata, compress=compress) as writer:
        for timestamp, user, payload in resolved(read_sources(paths, options), options):
            writer.write(timestamp, user, payload)
        frames, payload_bytes = writer.frames, writer.payload_bytes
    return ImportSummary(
        path=str(output),
        frames=frames,
        payload_bytes=payload_bytes,
        users=len(users),
        sources=[str(path) for path in paths],
    )
