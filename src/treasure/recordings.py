"""Recordings: a versioned, checksummed, append-only file of captured event messages.

The byte layout is documented in docs/recording-format.md (codec: recording_format.py,
writer: recording_writer.py). Readers stream in fixed-size chunks, so memory stays bounded
by the largest frame whatever the file's size, and check every frame's checksum, its
sequence number and, at the end, the trailer's frame count and whole-file checksum.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol

import zstandard
from isal.isal_zlib import crc32  # zlib's CRC-32 by ISA-L: ~3× faster on a frame

from treasure.errors import RecordingError
from treasure.files import kind_of
from treasure.recording_format import (
    CRC,
    CRC_RESIDUE,
    HEAD_V1_CHECKED,
    HEAD_V2_CHECKED,
    MAGIC,
    MAX_PAYLOAD_BYTES,
    TRAILER_MAGIC,
    TRAILER_SIZE,
    VERSION,
    Frame,
    Header,
    Trailer,
    decode_trailer,
    encode_frame,
    encode_header,
    read_header,
)
from treasure.recording_writer import RecordingWriter

if TYPE_CHECKING:  # the native decoder's run of intact frames (treasure_rs/_native.pyi)
    from treasure_rs._native import FrameRun as Run
# (fd, buffer, position, want, need) -> the buffer's bytes from position on, then up to
# `want` more read from fd: the native reader's refill of an uncompressed recording
ReadAfter = Callable[[int, bytes, int, int, int], bytes]
# (fd, chunk, buffer, position, end) -> bytes in chunk: the buffer's from position to end
# moved to the chunk's start, then the chunk filled from fd (a regular file's refill)
Refill = Callable[[int, mmap.mmap, "bytes | mmap.mmap", int, int], int]
try:
    from treasure_rs._native import FrameRun as _NativeRun
    from treasure_rs._native import read_after as _native_read_after
    from treasure_rs._native import refill as _native_refill
except ImportError:  # treasure-rs not built, or built before the decoder: pure Python
    NATIVE_DECODE: type[Run] | None = None
    READ_AFTER: ReadAfter | None = None
    REFILL: Refill | None = None
else:
    NATIVE_DECODE = _NativeRun
    READ_AFTER = _native_read_after
    REFILL = _native_refill

__all__ = [
    "MAGIC",
    "MAX_PAYLOAD_BYTES",
    "VERSION",
    "Frame",
    "Header",
    "Integrity",
    "OnCorrupt",
    "RecordingReader",
    "RecordingWriter",
    "count_frames",
    "encode_frame",
    "encode_header",
    "open_recording",
]

# Refills of a compressed recording, or of a reader given a stream that is not a regular file
# (open_recording refuses those), make a new buffer each: under glibc's 128 KiB mmap and
# trim thresholds, so they reuse memory and RSS stays flat.
READ_CHUNK = 64 << 10
# An uncompressed regular file read natively is refilled into one buffer of this size, made
# once per read: larger refills cost less a frame (~40 ns a 550-byte one against 64 KiB), and
# a buffer that is never freed cannot move RSS; it fits a core's L2 with room to spare, for
# the passes over it (the frames' checks, the payloads' copies, the whole-file checksum).
REFILL_CHUNK = 256 << 10
ZSTD_INPUT_CHUNK = 4 << 10  # small input steps keep decompressed output per step small
MAX_PROBLEMS = 20

OnCorrupt = Literal["raise", "skip"]


@dataclass(slots=True)
class Integrity:
    """What reading a recording found; final once iteration has ended."""

    version: int = VERSION
    frames_ok: int = 0
    ended: bool = False  # the reader got to the end of the frames (not stopped by its caller)
    trailer_ok: bool = False  # v2: trailer found, its count and whole-file checksum hold
    frames_declared: int | None = None  # the trailer's frame count
    torn_tail: bool = False
    torn_offset: int | None = None  # byte where the incomplete part starts (uncompressed layout)
    corrupt_frames: list[int] = field(default_factory=list)
    out_of_sequence: list[int] = field(default_factory=list)  # frames missing, repeated, moved
    unreadable_from: int | None = None  # byte offset of a damaged head: nothing after trusted
    unreadable_frame: int | None = None  # ... and the index of the frame it began
    trailer_problem: str = ""
    problems: list[str] = field(default_factory=list)  # one line each, first ones only

    @property
    def ok(self) -> bool:
        """No damage found: every frame read was intact and in sequence."""
        return not (
            self.corrupt_frames
            or self.out_of_sequence
            or self.unreadable_from is not None
            or self.trailer_problem
        )

    @property
    def complete(self) -> bool:
        """Read to its proper end: v2 needs its trailer; v1 only has no torn tail."""
        if self.torn_tail or not self.ended:
            return False
        return self.version == 1 or self.trailer_ok

    @property
    def clean(self) -> bool:
        return self.ok and self.complete

    @property
    def recorded_frames(self) -> int | None:
        """How many frames the recording holds, when reading could tell."""
        if self.frames_declared is not None:
            return self.frames_declared
        if self.version == 1 and self.ended and self.ok and not self.torn_tail:
            return self.frames_ok
        return None

    def stop_reason(self) -> str:
        """Why a full read did not cover the whole recording: "" when it did."""
        if self.unreadable_from is not None:
            return (
                f"recording unreadable from frame {self.unreadable_frame} "
                f"(byte {self.unreadable_from})"
            )
        if not self.ended:
            return ""
        if self.torn_tail:
            return f"recording ends in a torn frame at byte {self.torn_offset}"
        if not self.ok:
            return self.problems[0] if self.problems else "recording damaged"
        if not self.complete:
            return "recording is incomplete: no trailer (its writer did not finish)"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "frames_ok": self.frames_ok,
            "frames_declared": self.frames_declared,
            "complete": self.complete,
            "torn_tail": self.torn_tail,
            "torn_offset": self.torn_offset,
            "corrupt_frames": list(self.corrupt_frames),
            "out_of_sequence": list(self.out_of_sequence),
            "unreadable_from": self.unreadable_from,
            "unreadable_frame": self.unreadable_frame,
            "trailer_problem": self.trailer_problem,
            "problems": list(self.problems),
            "ok": self.ok,
            "clean": self.clean,
        }


class _Source(Protocol):
    def read(self, size: int) -> bytes: ...


class _StreamDamaged(Exception):
    """The compressed stream cannot be decoded past this point."""


class _ZstdSource:
    """Decompressed bytes of a zstd stream, read in small steps; a cut stream just ends,
    and `finished` says whether the zstd frame was whole (its end and checksum seen)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27).decompressobj()
        self._eof = False
        self.finished = False
        self.trailing = 0  # bytes after the end of the zstd frame

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
            if self._dctx.eof:
                self._eof = self.finished = True
                self.trailing = len(self._dctx.unused_data)
                while more := self._raw.read(READ_CHUNK):
                    self.trailing += len(more)
        return b"".join(out)


def _anonymous(size: int) -> mmap.mmap:
    """A private anonymous mapping of `size` bytes: a buffer outside the allocator."""
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)


class _Cursor:
    """The unread bytes of a frame stream, refilled in chunks; keeps the running CRC-32 of
    every byte consumed (the header's included), which the v2 trailer is checked against:
    `checksum` covers the bytes before `buf[checked]`, the rest up to `pos` is added when
    the buffer is refilled (a native run adds its own frames' bytes once used up)."""

    def __init__(
        self,
        source: _Source,
        header: Header,
        fd: int | None = None,
        chunk: mmap.mmap | None = None,
    ) -> None:
        self.source = source
        self.fd = fd  # an uncompressed file read natively: refilled by READ_AFTER
        self.chunk = chunk  # ... and a regular file: refilled in place by REFILL, into this
        self.buf: bytes | mmap.mmap = b""
        self.end = 0  # the bytes of `buf` read: the chunk's tail after a short read is stale
        self.pos = 0
        self.base = header.data_offset  # uncompressed-layout offset of buf[0]
        self.eof = False
        self.checksum = header.checksum
        self.checked = 0

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def available(self, need: int) -> int:
        """Bytes from `pos` on, after reading until `need` are there or the stream ends.
        Raises _StreamDamaged when a compressed stream cannot be decoded further."""
        have = self.end - self.pos
        if have >= need or self.eof:
            return have
        self.checksum = self.consumed_checksum()
        self.checked = 0
        own = self.chunk
        if self.fd is not None and REFILL is not None and own is not None and need <= len(own):
            # what is left moved to the buffer's start, the rest read after it: a run over
            # the buffer was used up before the reader asked for more (RecordingReader._frames)
            got = REFILL(self.fd, own, self.buf, self.pos, self.end)
            self.base += self.pos
            self.buf, self.pos, self.end = own, 0, got  # short: the file's end
            self.eof = got < need
            return got
        if self.fd is not None and READ_AFTER is not None:
            # a chunk read into place after the bytes left over: only they are copied
            buf, pos = self.buf, self.pos
            if not isinstance(buf, bytes):  # a frame larger than the chunk: in bytes from here
                buf, pos = memoryview(buf)[pos : self.end].tobytes(), 0
            buf = READ_AFTER(self.fd, buf, pos, max(READ_CHUNK, need) - have, need)
            self.base += self.pos
            self.buf, self.pos, self.end = buf, 0, len(buf)
            self.eof = len(buf) < need
            return len(buf)
        parts = [self.buf[self.pos :]] if have else []
        self.base += self.pos
        self.pos = 0
        try:
            while have < need:
                # bytes left over are completed by what they lack, so only they are copied;
                # a chunk read with nothing left over becomes the buffer as it is
                chunk = self.source.read(need - have if have else max(READ_CHUNK, need))
                if not chunk:
                    self.eof = True
                    break
                parts.append(chunk)
                have += len(chunk)
        finally:
            self.buf = parts[0] if len(parts) == 1 else b"".join(parts)
            self.end = len(self.buf)
        return have

    def consumed_checksum(self) -> int:
        return crc32(memoryview(self.buf)[self.checked : self.pos], self.checksum)

    def add_run(self, start: int, run: Run) -> None:
        """Add the bytes of a used-up native run that began at `start` in `buf`."""
        before = crc32(memoryview(self.buf)[self.checked : start], self.checksum)  # a gap
        self.checksum, self.checked = run.checksum(before), run.pos

    def rest_is_empty(self) -> bool:
        return self.available(1) == 0


class RecordingReader:
    """Iterates the frames of an open recording; see `open_recording`."""

    def __init__(
        self, path: Path, raw: BinaryIO, on_corrupt: OnCorrupt, native: bool | None = None
    ) -> None:
        if on_corrupt not in ("raise", "skip"):
            raise ValueError(f"on_corrupt must be 'raise' or 'skip', not {on_corrupt!r}")
        if native and NATIVE_DECODE is None:
            raise ValueError("the native frame decoder is not available (treasure-rs not built)")
        self._decode = NATIVE_DECODE if native is not False else None
        self.path = path
        self._raw = raw
        self.on_corrupt = on_corrupt
        self.header = read_header(raw, path)
        self.integrity = Integrity(version=self.header.version)
        self._next_index = 0
        # the native reader's refill buffer for a regular file, made by the first `runs` and
        # unmapped by `close`: mapped, not allocated (freeing a buffer this size would move
        # glibc's mmap and trim thresholds, for the measured backend too), and kept until the
        # recording closes: unmapped when the frames ran out, it dropped a paced no-op run's
        # last RSS sample by its 256 KiB, read as -3.8 B per message over 20,000
        self._chunk: mmap.mmap | None = None

    def close(self) -> None:
        """Release the refill buffer (`open_recording` calls this as the file closes)."""
        chunk, self._chunk = self._chunk, None
        if chunk is not None:
            with suppress(BufferError):  # a run or view the caller still holds: unmapped
                chunk.close()  # with it

    def __iter__(self) -> Iterator[Frame]:
        # runs of frames, flattened in C: no Python frame resumed per frame
        return chain.from_iterable(self.runs())

    def runs(self) -> Iterator[Run | tuple[Frame]]:
        """The frames in order, in runs: a native `Run` of intact frames (taken as `Frame`
        objects by iterating it, or natively, as the timing loop does), or one `Frame` the
        Python reader judged itself. The reader goes on to the next run when the caller asks
        for it, having taken the whole of the last (else it starts where the caller stopped);
        `integrity` is the same as for iterating the reader."""
        self._raw.seek(self.header.data_offset)
        source = _ZstdSource(self._raw) if self.header.compressed else None
        self.integrity = Integrity(version=self.header.version)
        # an uncompressed file read natively is refilled in Rust, straight into the buffer
        fd = None
        if self._decode is not None and READ_AFTER is not None and source is None:
            fd = self._raw.fileno()  # its own position: a buffered seek may not move it
            os.lseek(fd, self.header.data_offset, os.SEEK_SET)
            if stat.S_ISREG(os.fstat(fd).st_mode) and REFILL is not None:
                self._chunk = self._chunk or _anonymous(REFILL_CHUNK)
        chunk = self._chunk if fd is not None else None
        cursor = _Cursor(source or self._raw, self.header, fd, chunk)
        return self._read_to_end(cursor, source)

    def _read_to_end(self, cur: _Cursor, zstd: _ZstdSource | None) -> Iterator[Run | tuple[Frame]]:
        try:
            yield from self._frames(cur, zstd)
        except _StreamDamaged as exc:
            self.damaged(self._next_index, f"compressed stream damaged: {exc}", offset=cur.offset)
        self.integrity.ended = True  # not reached when the caller stops early

    def _frames(self, cur: _Cursor, zstd: _ZstdSource | None) -> Iterator[Run | tuple[Frame]]:
        """Runs of frames from the cursor on. The hot loop keeps the buffer and position in
        locals (the cursor is synced only to refill it and when the loop stops): per frame,
        one unpack of the head and its checksum, one CRC of the head and one of the body.

        With the native decoder, each turn first hands out a run of every intact frame in
        the buffer from there on, validated in Rust; the loop below then judges the one
        frame the run stopped at (a refill, a trailer, damage), exactly as without it. A
        run's frames are counted in `frames_ok` once the caller has taken them and asks for
        more (or lets the iterator go)."""
        integrity = self.integrity
        v2 = self.header.version >= 2
        head = HEAD_V2_CHECKED if v2 else HEAD_V1_CHECKED
        unpack_head = head.unpack_from
        head_size, head_bytes = head.size, head.size - CRC.size
        frame = Frame
        decode = self._decode
        index = 0  # v1: frames in file order; v2: the sequence number expected next
        payload_seen = 0
        buf, pos = cur.buf, cur.pos
        view, end = memoryview(buf), cur.end
        run: Run | None = None
        try:
            while True:
                if decode is not None and end - pos >= head_size:
                    run = decode(frame, buf, pos, v2, index, end)
                    yield run  # resumed once the caller has taken all of it
                    if run.count:
                        cur.add_run(pos, run)
                    pos, index = run.pos, run.expected
                    payload_seen += run.payload_bytes
                    integrity.frames_ok += run.count
                    run = None
                if end - pos < head_size:
                    cur.pos = pos
                    have = cur.available(head_size)
                    buf, pos = cur.buf, cur.pos
                    view, end = memoryview(buf), cur.end
                    if have < head_size:
                        if v2 and have and buf[pos:end] == TRAILER_MAGIC[:have]:
                            self._finish(cur, zstd, index, payload_seen)
                        elif have:
                            integrity.torn_tail, integrity.torn_offset = True, cur.offset
                        return
                    if decode is not None:
                        continue  # a fresh buffer: the native decoder takes it from here
                if v2:
                    payload_len, user_len, sequence, timestamp_ns, head_crc = unpack_head(buf, pos)
                else:
                    payload_len, user_len, timestamp_ns, head_crc = unpack_head(buf, pos)
                    sequence = index
                if (
                    payload_len > MAX_PAYLOAD_BYTES
                    or crc32(view[pos : pos + head_bytes]) != head_crc
                ):
                    cur.pos = pos  # a trailer's magic reads as a length over the limit
                    if v2 and buf[pos : min(end, pos + len(TRAILER_MAGIC))] == TRAILER_MAGIC:
                        self._finish(cur, zstd, index, payload_seen)
                    else:
                        self.damaged(index, "frame head checksum mismatch", offset=cur.offset)
                    return
                stop = pos + head_size + user_len + payload_len + CRC.size
                if stop > end:
                    cur.pos = pos
                    if cur.available(stop - pos) < stop - pos:
                        integrity.torn_tail, integrity.torn_offset = True, cur.offset
                        return
                    stop += cur.pos - pos
                    buf, pos = cur.buf, cur.pos
                    view, end = memoryview(buf), cur.end
                    if decode is not None:
                        continue  # the whole frame is in the buffer now
                body, pos = pos + head_size, stop
                payload_seen += payload_len
                if sequence != index and not self._in_sequence(index, sequence):
                    continue
                index = sequence + 1
                if crc32(view[body:stop], head_crc if v2 else 0) != CRC_RESIDUE:
                    self.damaged(sequence, "checksum mismatch")
                    continue
                try:
                    user_id = buf[body : body + user_len].decode()  # faster than str(view)
                except UnicodeDecodeError:
                    self.damaged(sequence, "user id is not UTF-8")
                    continue
                integrity.frames_ok += 1
                # bytes, whatever the buffer is (the native reader's own is a mapping)
                payload = view[body + user_len : stop - CRC.size].tobytes()
                yield (frame(sequence, timestamp_ns, user_id, payload),)
        finally:
            if run is not None:  # the caller stopped inside a run: count what it was given
                integrity.frames_ok += run.count
                cur.pos, self._next_index = run.pos, run.expected
            else:
                cur.pos, self._next_index = pos, index

    def _in_sequence(self, expected: int, sequence: int) -> bool:
        """Note a frame whose sequence number is not the next one; False: do not use it."""
        self.integrity.out_of_sequence.append(expected)
        if sequence > expected:
            missing = (
                f"frame {expected}"
                if sequence == expected + 1
                else (f"frames {expected}-{sequence - 1}")
            )
            self.note(
                f"{self.path}: frame {expected}: missing ({missing} lost: frame "
                f"{sequence} follows frame {expected - 1})"
            )
            return True
        self.note(
            f"{self.path}: frame {expected}: frame {sequence} found in its place "
            "(a frame repeated or out of order)"
        )
        return False

    def _finish(self, cur: _Cursor, zstd: _ZstdSource | None, frames: int, payload: int) -> None:
        """Check the v2 trailer at the cursor against what was read, and the end after it."""
        integrity = self.integrity
        at = cur.offset
        if cur.available(TRAILER_SIZE) < TRAILER_SIZE:
            integrity.torn_tail, integrity.torn_offset = True, at
            return
        checksum = cur.consumed_checksum()
        trailer = decode_trailer(bytes(cur.buf[cur.pos : cur.pos + TRAILER_SIZE]))
        cur.pos += TRAILER_SIZE
        if trailer is None:
            problem = "its own checksum does not match"
        else:
            integrity.frames_declared = trailer.frames
            problem = _trailer_mismatch(trailer, frames, payload, checksum)
        if not problem and not cur.rest_is_empty():
            problem = "data follows it"
        if not problem and zstd is not None and zstd.trailing:
            problem = f"{zstd.trailing} bytes follow the end of the compressed stream"
        if problem:
            integrity.trailer_problem = f"{self.path}: trailer at byte {at}: {problem}"
            integrity.problems.append(integrity.trailer_problem)
            if self.on_corrupt == "raise":
                raise RecordingError(integrity.trailer_problem)
            return
        if zstd is not None and not zstd.finished:
            # every frame is there, but the compressed stream was cut before its end
            integrity.torn_tail, integrity.torn_offset = True, cur.offset
            return
        integrity.trailer_ok = True

    def damaged(self, index: int, problem: str, *, offset: int | None = None) -> None:
        """Raise, or note one damaged frame (`offset` set: its head, so nothing after it)."""
        message = f"{self.path}: frame {index}: {problem}"
        self.note(message)
        self.integrity.corrupt_frames.append(index)
        if offset is not None:
            self.integrity.unreadable_from = offset
            self.integrity.unreadable_frame = index

    def note(self, message: str) -> None:
        if self.on_corrupt == "raise":
            raise RecordingError(message)
        if len(self.integrity.problems) < MAX_PROBLEMS:
            self.integrity.problems.append(message)


def _trailer_mismatch(trailer: Trailer, frames: int, payload: int, checksum: int) -> str:
    if trailer.frames != frames:
        return (
            f"it counts {trailer.frames} frames, the recording holds frames 0-{frames - 1}"
            if frames
            else f"it counts {trailer.frames} frames, the recording holds none"
        )
    if trailer.payload_bytes != payload:
        return f"it counts {trailer.payload_bytes} payload bytes, the frames hold {payload}"
    if trailer.checksum != checksum:
        return "the whole-file checksum does not match"
    return ""


@contextmanager
def open_recording(
    path: str | os.PathLike[str], *, on_corrupt: OnCorrupt = "raise", native: bool | None = None
) -> Iterator[RecordingReader]:
    """Open a recording for streaming reads.

    `on_corrupt="raise"` stops at the first damaged or out-of-sequence frame, or a trailer
    that does not match, with a RecordingError naming the file and frame index; `"skip"`
    counts it in `reader.integrity` and goes on while the frame's length can still be
    trusted. A torn tail or a missing trailer (a writer killed mid-way) never raises: it is
    reported by `reader.integrity` (`torn_tail`, `complete`).

    `native`: decode intact frames with treasure-rs's native decoder (None: when it is
    installed; False: the pure-Python reader). Frames and integrity are the same either way.
    """
    recording = Path(path)
    try:
        mode = recording.stat().st_mode
        # a FIFO would block the open until a writer came, and every pass reads a recording
        # again from its start: only a regular file (or a link to one) can be replayed
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise RecordingError(
                f"{recording}: not a regular file ({kind_of(mode)}): a recording is read "
                "more than once, from its start; copy it to a file first"
            )
        raw = recording.open("rb")
    except OSError as exc:
        raise RecordingError(f"{recording}: cannot open: {exc.strerror}") from exc
    with raw:
        reader = RecordingReader(recording, raw, on_corrupt, native)
        try:
            yield reader
        finally:
            reader.close()


def count_frames(path: str | os.PathLike[str]) -> int:
    """How many intact frames a recording holds (damaged ones are not counted)."""
    with open_recording(path, on_corrupt="skip") as reader:
        for run in reader.runs():
            if isinstance(run, tuple):
                continue
            run.take_all()  # counted as taken, no Frame built
        return reader.integrity.frames_ok
