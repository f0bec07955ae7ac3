"""The byte layout of a recording (docs/recording-format.md): header, frames, trailer.

Version 2 (written) numbers every frame and ends with a trailer holding the frame count
and a checksum of every byte before it, so a frame lost, duplicated, reordered or cut off
at a boundary is seen. Version 1 (still read) has neither.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec

from treasure.errors import RecordingError

MAGIC = b"\x89TREC\r\n\x1a"
TRAILER_MAGIC = b"\x89TEND\r\n\x1a"  # as a v2 frame head: a length over the 64 MiB limit
VERSION = 2
READ_VERSIONS = (1, 2)
FLAG_ZSTD = 0x0001
MAX_META_BYTES = 1 << 20
MAX_PAYLOAD_BYTES = 64 << 20  # a length above this is treated as corruption, not allocated

FIXED = struct.Struct("<8sHHI")  # magic, version, flags, metadata length
CRC = struct.Struct("<I")
HEAD_V1 = struct.Struct("<IHq")  # payload length, user id length, timestamp ns
HEAD_V2 = struct.Struct("<IHQq")  # payload length, user id length, sequence, timestamp ns
TRAILER = struct.Struct("<8sQQI")  # magic, frame count, payload bytes, CRC of all before
TRAILER_SIZE = TRAILER.size + CRC.size  # 36 bytes
# A frame head and its checksum read in one call (the reader's hot path).
HEAD_V1_CHECKED = struct.Struct("<IHqI")
HEAD_V2_CHECKED = struct.Struct("<IHQqI")
# The CRC-32 of any bytes followed by their own CRC-32 (little-endian), whatever the start
# value: so one call over user id, payload and body checksum verifies the body.
CRC_RESIDUE = 0x2144DF1C


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One captured message: its position in the recording, when and from whom it came.

    A frozen msgspec Struct: built in a fraction of a frozen dataclass's time (the reader
    makes one per message); it holds no container, so the cyclic GC need not track it."""

    index: int
    timestamp_ns: int
    user_id: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    created_at: str  # ISO 8601, UTC
    metadata: dict[str, Any]  # always holds "scenario" (str) and "users" (int)
    compressed: bool
    data_offset: int  # file offset of the first frame byte (or of the zstd stream)
    checksum: int = 0  # CRC-32 of the header's bytes: where the whole-file checksum starts


@dataclass(frozen=True, slots=True)
class Trailer:
    frames: int
    payload_bytes: int
    checksum: int  # CRC-32 of the header and every frame, uncompressed layout


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def encode_frame(timestamp_ns: int, user_id: str, payload: bytes, sequence: int = 0) -> bytes:
    """The bytes of one v2 frame: head (with its sequence number), head checksum, user id,
    payload, body checksum. The body checksum continues the head's, tying body to head."""
    user = user_id.encode("utf-8")
    if len(user) > 0xFFFF:
        raise ValueError(f"user id of {len(user)} bytes is over 65535")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    head = HEAD_V2.pack(len(payload), len(user), sequence, timestamp_ns)
    head_crc = zlib.crc32(head)
    body_crc = zlib.crc32(payload, zlib.crc32(user, head_crc))
    return b"".join((head, CRC.pack(head_crc), user, payload, CRC.pack(body_crc)))


def encode_header(
    metadata: dict[str, Any], *, created_at: str | None = None, compress: bool = False
) -> bytes:
    meta = dict(metadata)
    meta.setdefault("scenario", "")
    meta.setdefault("users", 0)
    document = {"created_at": created_at or _now_iso(), "metadata": meta}
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_META_BYTES:
        raise ValueError(f"metadata of {len(body)} bytes is over {MAX_META_BYTES}")
    start = FIXED.pack(MAGIC, VERSION, FLAG_ZSTD if compress else 0, len(body)) + body
    return start + CRC.pack(zlib.crc32(start))


def encode_trailer(trailer: Trailer) -> bytes:
    body = TRAILER.pack(TRAILER_MAGIC, trailer.frames, trailer.payload_bytes, trailer.checksum)
    return body + CRC.pack(zlib.crc32(body))


def decode_trailer(data: bytes) -> Trailer | None:
    """The trailer in `data` (TRAILER_SIZE bytes), or None when its own checksum fails."""
    body, (crc,) = data[: TRAILER.size], CRC.unpack_from(data, TRAILER.size)
    if zlib.crc32(body) != crc:
        return None
    _, frames, payload_bytes, checksum = TRAILER.unpack(body)
    return Trailer(frames, payload_bytes, checksum)


def read_header(raw: BinaryIO, path: object) -> Header:
    fixed = raw.read(FIXED.size)
    if not fixed:
        raise RecordingError(f"{path}: empty file, not a recording")
    if fixed[: len(MAGIC)] != MAGIC[: len(fixed)]:
        raise RecordingError(f"{path}: not a recording (no treasure recording magic)")
    if len(fixed) < FIXED.size:
        raise RecordingError(f"{path}: header truncated at byte {len(fixed)}")
    _, version, flags, meta_len = FIXED.unpack(fixed)
    if version not in READ_VERSIONS:
        known = " and ".join(str(v) for v in READ_VERSIONS)
        raise RecordingError(
            f"{path}: unknown recording version {version} (this treasure reads {known})"
        )
    if meta_len > MAX_META_BYTES:
        raise RecordingError(f"{path}: header metadata length {meta_len} is not sane")
    rest = raw.read(meta_len + CRC.size)
    if len(rest) < meta_len + CRC.size:
        raise RecordingError(f"{path}: header truncated at byte {FIXED.size + len(rest)}")
    body, (crc,) = rest[:meta_len], CRC.unpack(rest[meta_len:])
    if zlib.crc32(fixed + body) != crc:
        raise RecordingError(f"{path}: header checksum mismatch")
    try:
        document = json.loads(body)
        metadata = document["metadata"]
        created_at = str(document["created_at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{path}: header metadata is not valid: {exc}") from exc
    # the decoded object itself, not a copy: dict(d) takes its keys table from malloc but
    # frees it onto CPython's free list of 80, so a soak, reading the header once a loop,
    # grew the heap it measures by ~5 KiB over its first 80 loops
    if not isinstance(metadata, dict):
        raise RecordingError(f"{path}: header metadata is not valid: not a JSON object")
    metadata.setdefault("scenario", "")
    metadata.setdefault("users", 0)
    return Header(
        version=version,
        created_at=created_at,
        metadata=metadata,
        compressed=bool(flags & FLAG_ZSTD),
        data_offset=FIXED.size + meta_len + CRC.size,
        checksum=zlib.crc32(rest, zlib.crc32(fixed)),
    )
