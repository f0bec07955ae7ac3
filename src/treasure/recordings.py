"""Recordings: a versioned, checksummed, append-only file of captured event messages.

The byte layout is documented in docs/recording-format.md. Writers put every frame on the
OS with one write call, so a killed writer leaves every complete frame readable; readers
stream in fixed-size chunks, so memory stays bounded by the largest frame whatever the
file's size.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal, Protocol

import zstandard

from treasure.errors import RecordingError

MAGIC = b"\x89TREC\r\n\x1a"
VERSION = 1
FLAG_ZSTD = 0x0001
MAX_META_BYTES = 1 << 20
MAX_PAYLOAD_BYTES = 64 << 20  # a length above this is treated as corruption, not allocated
READ_CHUNK = 64 << 10
ZSTD_INPUT_CHUNK = 4 << 10  # small input steps keep decompressed output per step small

_FIXED = struct.Struct("<8sHHI")  # magic, version, flags, metadata length
_HEAD = struct.Struct("<IHq")  # payload length, user id length, timestamp ns
_CRC = struct.Struct("<I")
_HEAD_SIZE = _HEAD.size + _CRC.size  # the frame head and its own checksum: 18 bytes
_TRAILER_SIZE = _CRC.size

OnCorrupt = Literal["raise", "skip"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured message: its position in the recording, when and from whom it came."""

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


@dataclass(slots=True)
class Integrity:
    """What reading a recording found; complete once iteration has ended."""

    frames_ok: int = 0
    torn_tail: bool = False
    torn_offset: int | None = None  # where the incomplete frame starts (uncompressed layout)
    corrupt_frames: list[int] = field(default_factory=list)
    unreadable_from: int | None = None  # a frame head was damaged: nothing after it is trusted
    problems: list[str] = field(default_factory=list)  # one line each, first ones only

    @property
    def ok(self) -> bool:
        return not self.corrupt_frames and self.unreadable_from is None

    @property
    def clean(self) -> bool:
        return self.ok and not self.torn_tail

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames_ok": self.frames_ok,
            "torn_tail": self.torn_tail,
            "torn_offset": self.torn_offset,
            "corrupt_frames": list(self.corrupt_frames),
            "unreadable_from": self.unreadable_from,
            "problems": list(self.problems),
            "ok": self.ok,
        }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def encode_frame(timestamp_ns: int, user_id: str, payload: bytes) -> bytes:
    """The bytes of one frame: head, head checksum, user id, payload, body checksum."""
    user = user_id.encode("utf-8")
    if len(user) > 0xFFFF:
        raise ValueError(f"user id of {len(user)} bytes is over 65535")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    head = _HEAD.pack(len(payload), len(user), timestamp_ns)
    body_crc = zlib.crc32(payload, zlib.crc32(user))
    return b"".join((head, _CRC.pack(zlib.crc32(head)), user, payload, _CRC.pack(body_crc)))


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
    start = _FIXED.pack(MAGIC, VERSION, FLAG_ZSTD if compress else 0, len(body)) + body
    return start + _CRC.pack(zlib.crc32(start))


class RecordingWriter:
    """Write a recording frame by frame; each frame reaches the OS before `write` returns.

    `buffer_bytes` > 0 trades that for speed: frames are gathered and handed to the OS in
    batches of about that size (a killed writer then loses the last unwritten batch, but
    still leaves only complete frames before a torn tail). Generators use it; capture
    and import keep the default 0.

    >>> with RecordingWriter(path, metadata={"scenario": "smoke", "users": 20}) as rec:
    ...     rec.write(0, "p-000001", b"event_type: move\\n")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        metadata: dict[str, Any],
        compress: bool = False,
        created_at: str | None = None,
        level: int = 3,
        buffer_bytes: int = 0,
    ) -> None:
        self.path = Path(path)
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._buffer_bytes = buffer_bytes
        self.frames = 0
        self.payload_bytes = 0
        self._header = encode_header(metadata, created_at=created_at, compress=compress)
        self._compressor = zstandard.ZstdCompressor(level=level).compressobj() if compress else None
        self._fd: int | None = None

    def __enter__(self) -> RecordingWriter:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._write_all(self._header)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, timestamp_ns: int, user_id: str, payload: bytes) -> None:
        frame = encode_frame(timestamp_ns, user_id, payload)
        self.frames += 1
        self.payload_bytes += len(payload)
        if self._compressor is not None:
            frame = self._compressor.compress(frame)
        if self._buffer_bytes:
            self._buffer.append(frame)
            self._buffered += len(frame)
            if self._buffered >= self._buffer_bytes:
                self.flush()
            return
        if self._compressor is not None:
            # A block flush per frame keeps every complete frame decodable after a kill.
            frame += self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        self._write_all(frame)

    def flush(self) -> None:
        """Hand every buffered frame to the OS."""
        if not self._buffered and not self._buffer:
            return
        if self._compressor is not None:
            self._buffer.append(self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
        self._write_all(b"".join(self._buffer))
        self._buffer.clear()
        self._buffered = 0

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.flush()
            if self._compressor is not None:
                self._write_all(self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH))
        finally:
            os.close(self._fd)
            self._fd = None

    def _write_all(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError("RecordingWriter used outside its `with` block")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


class _Source(Protocol):
    def read(self, size: int) -> bytes: ...


class _ZstdSource:
    """Decompressed bytes of a zstd stream, read in small steps; a cut stream just ends."""

    def __init__(self, raw: BinaryIO, path: Path) -> None:
        self._raw = raw
        self._path = path
        self._dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27).decompressobj()
        self._eof = False

    def read(self, size: int) -> bytes:
        out: list[bytes] = []
        got = 0
        while got < size and not self._eof:
            chunk = self._raw.read(ZSTD_INPUT_CHUNK)
            if not chunk:
                self._eof = True
                break
            try:
                data = self._dctx.decompress(chunk)
            except zstandard.ZstdError as exc:
                self._eof = True
                raise _StreamDamaged(str(exc)) from exc
            out.append(data)
            got += len(data)
        return b"".join(out)


class _StreamDamaged(Exception):
    """The compressed stream cannot be decoded past this point."""


def _read_header(raw: BinaryIO, path: Path) -> Header:
    fixed = raw.read(_FIXED.size)
    if not fixed:
        raise RecordingError(f"{path}: empty file, not a recording")
    if fixed[: len(MAGIC)] != MAGIC[: len(fixed)]:
        raise RecordingError(f"{path}: not a recording (no treasure recording magic)")
    if len(fixed) < _FIXED.size:
        raise RecordingError(f"{path}: header truncated at byte {len(fixed)}")
    _, version, flags, meta_len = _FIXED.unpack(fixed)
    if version != VERSION:
        raise RecordingError(
            f"{path}: unknown recording version {version} (this treasure reads {VERSION})"
        )
    if meta_len > MAX_META_BYTES:
        raise RecordingError(f"{path}: header metadata length {meta_len} is not sane")
    rest = raw.read(meta_len + _CRC.size)
    if len(rest) < meta_len + _CRC.size:
        raise RecordingError(f"{path}: header truncated at byte {_FIXED.size + len(rest)}")
    body, (crc,) = rest[:meta_len], _CRC.unpack(rest[meta_len:])
    if zlib.crc32(fixed + body) != crc:
        raise RecordingError(f"{path}: header checksum mismatch")
    try:
        document = json.loads(body)
        metadata = dict(document["metadata"])
        created_at = str(document["created_at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{path}: header metadata is not valid: {exc}") from exc
    metadata.setdefault("scenario", "")
    metadata.setdefault("users", 0)
    return Header(
        version=version,
        created_at=created_at,
        metadata=metadata,
        compressed=bool(flags & FLAG_ZSTD),
        data_offset=_FIXED.size + meta_len + _CRC.size,
    )


class RecordingReader:
    """Iterates the frames of an open recording; see `open_recording`."""

    def __init__(self, path: Path, raw: BinaryIO, on_corrupt: OnCorrupt) -> None:
        if on_corrupt not in ("raise", "skip"):
            raise ValueError(f"on_corrupt must be 'raise' or 'skip', not {on_corrupt!r}")
        self.path = path
        self._raw = raw
        self.on_corrupt = on_corrupt
        self.header = _read_header(raw, path)
        self.integrity = Integrity()

    def __iter__(self) -> Iterator[Frame]:
        self._raw.seek(self.header.data_offset)
        source: _Source = _ZstdSource(self._raw, self.path) if self.header.compressed else self._raw
        self.integrity = Integrity()
        return self._frames(source)

    def _damaged(self, index: int, offset: int, problem: str, *, fatal: bool) -> None:
        message = f"{self.path}: frame {index}: {problem}"
        if self.on_corrupt == "raise":
            raise RecordingError(message)
        self.integrity.corrupt_frames.append(index)
        if len(self.integrity.problems) < 20:
            self.integrity.problems.append(message)
        if fatal:
            self.integrity.unreadable_from = offset

    def _frames(self, source: _Source) -> Iterator[Frame]:
        integrity = self.integrity
        base = self.header.data_offset  # uncompressed-layout offset of buf[0]
        buf = b""
        pos = 0
        index = 0
        eof = False
        head_unpack = _HEAD.unpack_from
        crc_unpack = _CRC.unpack_from
        crc32 = zlib.crc32
        while True:
            if len(buf) - pos < _HEAD_SIZE and not eof:
                buf, base, pos, eof = self._refill(source, buf, base, pos, _HEAD_SIZE, index)
            if len(buf) - pos < _HEAD_SIZE:
                if len(buf) > pos:
                    integrity.torn_tail = True
                    integrity.torn_offset = base + pos
                return
            payload_len, user_len, timestamp_ns = head_unpack(buf, pos)
            (head_crc,) = crc_unpack(buf, pos + _HEAD.size)
            if crc32(buf[pos : pos + _HEAD.size]) != head_crc or payload_len > MAX_PAYLOAD_BYTES:
                self._damaged(index, base + pos, "frame head checksum mismatch", fatal=True)
                return
            size = _HEAD_SIZE + user_len + payload_len + _TRAILER_SIZE
            if len(buf) - pos < size and not eof:
                buf, base, pos, eof = self._refill(source, buf, base, pos, size, index)
            if len(buf) - pos < size:
                integrity.torn_tail = True
                integrity.torn_offset = base + pos
                return
            user_start = pos + _HEAD_SIZE
            payload_start = user_start + user_len
            payload_end = payload_start + payload_len
            user = buf[user_start:payload_start]
            payload = buf[payload_start:payload_end]
            (body_crc,) = crc_unpack(buf, payload_end)
            frame_offset = base + pos
            pos += size
            if crc32(payload, crc32(user)) != body_crc:
                self._damaged(index, frame_offset, "checksum mismatch", fatal=False)
            else:
                try:
                    user_id = user.decode("utf-8")
                except UnicodeDecodeError:
                    self._damaged(index, frame_offset, "user id is not UTF-8", fatal=False)
                else:
                    integrity.frames_ok += 1
                    yield Frame(index, timestamp_ns, user_id, payload)
            index += 1

    def _refill(
        self, source: _Source, buf: bytes, base: int, pos: int, need: int, index: int
    ) -> tuple[bytes, int, int, bool]:
        """Keep the unread tail of `buf` and read until `need` bytes are there or EOF."""
        parts = [buf[pos:]]
        have = len(parts[0])
        eof = False
        while have < need:
            try:
                chunk = source.read(max(READ_CHUNK, need - have))
            except _StreamDamaged as exc:
                offset = base + pos
                self._damaged(index, offset, f"compressed stream damaged: {exc}", fatal=True)
                eof = True
                break
            if not chunk:
                eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts), base + pos, 0, eof


@contextmanager
def open_recording(
    path: str | os.PathLike[str], *, on_corrupt: OnCorrupt = "raise"
) -> Iterator[RecordingReader]:
    """Open a recording for streaming reads.

    `on_corrupt="raise"` stops at the first damaged frame with a RecordingError naming the
    file and frame index; `"skip"` counts it in `reader.integrity` and goes on while the
    frame's length can still be trusted. A torn tail (a writer killed mid-frame) never
    raises: it is reported in `reader.integrity.torn_tail`.
    """
    recording = Path(path)
    try:
        raw = recording.open("rb")
    except OSError as exc:
        raise RecordingError(f"{recording}: cannot open: {exc.strerror}") from exc
    with raw:
        yield RecordingReader(recording, raw, on_corrupt)


def count_frames(path: str | os.PathLike[str]) -> int:
    """How many intact frames a recording holds (damaged ones are not counted)."""
    with open_recording(path, on_corrupt="skip") as reader:
        for _ in reader:
            pass
        return reader.integrity.frames_ok
