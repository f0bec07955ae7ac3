"""Writing recordings: frame by frame into a temporary file, renamed into place when whole.

A writer killed at any moment leaves the file it was replacing untouched, and its own
temporary `.NAME.XXXX.incomplete` file with every frame it had handed to the OS but no
trailer, so any reader reports it incomplete.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any

import zstandard

from treasure.files import AtomicOutput
from treasure.recording_format import Trailer, encode_frame, encode_header, encode_trailer

INCOMPLETE_SUFFIX = ".incomplete"


class RecordingWriter:
    """Write a recording frame by frame; each frame reaches the OS before `write` returns.

    `buffer_bytes` > 0 trades that for speed: frames are gathered and handed to the OS in
    batches of about that size (a killed writer then loses the last unwritten batch).
    Generators use it; import keeps the default 0. The recording appears at `path` only
    when the `with` block ends without an error.

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
        self._checksum = zlib.crc32(self._header)
        self._compressor = (
            zstandard.ZstdCompressor(level=level, write_checksum=True).compressobj()
            if compress
            else None
        )
        self._out: AtomicOutput | None = None

    @property
    def temporary(self) -> Path | None:
        """Where the frames go until the recording is complete."""
        return self._out.temporary if self._out is not None else None

    def __enter__(self) -> RecordingWriter:
        self._out = AtomicOutput(self.path, suffix=INCOMPLETE_SUFFIX)
        self._out.write(self._header)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif self._out is not None:
            self._out.abort()  # an error inside the block: the old file stays, no new one
            self._out = None

    def write(self, timestamp_ns: int, user_id: str, payload: bytes) -> None:
        frame = encode_frame(timestamp_ns, user_id, payload, self.frames)
        self.frames += 1
        self.payload_bytes += len(payload)
        self._checksum = zlib.crc32(frame, self._checksum)
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
        """Write the trailer and put the recording in place."""
        if self._out is None:
            return
        self.flush()
        trailer = encode_trailer(Trailer(self.frames, self.payload_bytes, self._checksum))
        if self._compressor is not None:
            trailer = self._compressor.compress(trailer)
            trailer += self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._write_all(trailer)
        out, self._out = self._out, None
        out.commit()

    def _write_all(self, data: bytes) -> None:
        if self._out is None:
            raise ValueError("RecordingWriter used outside its `with` block")
        self._out.write(data)
