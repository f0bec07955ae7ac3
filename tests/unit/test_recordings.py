"""The recording format: round trips, torn tails, bit flips, bounded memory, scan.

Mutations of whole frames (lost, repeated, swapped) are in test_recording_mutations.py."""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
import tracemalloc
import zlib
from collections import Counter
from pathlib import Path

import pytest

from treasure.errors import RecordingError
from treasure.recording_format import FIXED, MAGIC, VERSION
from treasure.recording_stats import percentile_of_counts, scan
from treasure.recordings import (
    Frame,
    Integrity,
    OnCorrupt,
    RecordingWriter,
    count_frames,
    encode_frame,
    open_recording,
)

FRAMES = [
    (1_000, "p-000001", b"event_type: move\nplayer_id: p-000001\n"),
    (2_500, "p-000002", b"x" * 70),
    (2_500, "p-000001", b""),
    (9_000, "s-\u00e9t\u00e9", b"event_type: chat\nmessage: \xff\xfe raw bytes\n"),
    (12_000, "p-000003", b"tags: [a, b]\n" * 3),
]


def write(path: Path, frames: list[tuple[int, str, bytes]], *, compress: bool = False) -> Path:
    metadata = {"scenario": "unit", "users": 3, "note": {"why": "tests"}}
    with RecordingWriter(path, metadata=metadata, compress=compress) as writer:
        for timestamp, user, payload in frames:
            writer.write(timestamp, user, payload)
    return path


def read_all(path: Path, on_corrupt: OnCorrupt = "raise") -> tuple[list[Frame], Integrity]:
    with open_recording(path, on_corrupt=on_corrupt) as reader:
        frames = list(reader)
        return frames, reader.integrity


def expected_frames(count: int | None = None) -> list[Frame]:
    rows = FRAMES if count is None else FRAMES[:count]
    return [Frame(i, ts, user, payload) for i, (ts, user, payload) in enumerate(rows)]


@pytest.mark.parametrize("compress", [False, True])
def test_frames_and_header_round_trip(tmp_path: Path, compress: bool) -> None:
    # given a recording written with metadata
    path = write(tmp_path / "r.trec", FRAMES, compress=compress)

    # when it is read back
    with open_recording(path) as reader:
        frames = list(reader)
        header, integrity = reader.header, reader.integrity

    # then every frame, the header and a clean integrity report come back
    assert frames == expected_frames()
    assert header.version == 2
    assert header.compressed is compress
    assert header.metadata == {"scenario": "unit", "users": 3, "note": {"why": "tests"}}
    assert header.created_at.endswith("Z")
    assert integrity.frames_ok == integrity.frames_declared == len(FRAMES)
    assert integrity.clean


def test_reading_twice_restarts_from_the_first_frame(tmp_path: Path) -> None:
    path = write(tmp_path / "r.trec", FRAMES)

    with open_recording(path) as reader:
        first, second = list(reader), list(reader)

    assert first == second == expected_frames()


def frame_boundaries(path: Path) -> list[int]:
    """File offsets where each frame ends, for an uncompressed recording."""
    with open_recording(path) as reader:
        offset = reader.header.data_offset
    ends = []
    for sequence, (timestamp, user, payload) in enumerate(FRAMES):
        offset += len(encode_frame(timestamp, user, payload, sequence))
        ends.append(offset)
    return ends


def test_a_cut_at_every_byte_keeps_every_complete_frame(tmp_path: Path) -> None:
    # given a recording and the offsets where its frames end
    whole = write(tmp_path / "whole.trec", FRAMES).read_bytes()
    ends = frame_boundaries(tmp_path / "whole.trec")
    data_offset = ends[0] - len(encode_frame(*FRAMES[0]))
    cut_path = tmp_path / "cut.trec"

    for cut in range(data_offset, len(whole) + 1):
        # when the file is cut there, as a killed writer would leave it
        cut_path.write_bytes(whole[:cut])
        frames, integrity = read_all(cut_path)

        # then every frame ending at or before the cut comes back, and only those, and
        # the recording is complete only when nothing was cut (the trailer is last)
        complete = sum(1 for end in ends if end <= cut)
        assert frames == expected_frames(complete), cut
        boundary = cut == data_offset or cut in ends or cut == len(whole)
        assert integrity.torn_tail is not boundary, cut
        expected_offset = None if boundary else ([data_offset, *ends])[complete]
        assert integrity.torn_offset == expected_offset, cut
        assert integrity.ok, cut
        assert integrity.complete is (cut == len(whole)), cut
        assert bool(integrity.stop_reason()) is (cut != len(whole)), cut


def test_a_cut_inside_the_header_is_one_clear_error(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.trec", FRAMES).read_bytes()
    data_offset = frame_boundaries(tmp_path / "whole.trec")[0] - len(encode_frame(*FRAMES[0]))
    cut_path = tmp_path / "cut.trec"

    for cut in range(data_offset):
        cut_path.write_bytes(whole[:cut])
        with pytest.raises(RecordingError) as caught, open_recording(cut_path):
            pass
        message = str(caught.value)
        assert message.startswith(str(cut_path)), cut
        assert "\n" not in message
        assert ("empty file" if cut == 0 else "truncated") in message, cut


def test_a_cut_compressed_recording_yields_a_prefix_and_never_raises(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.trec", FRAMES, compress=True).read_bytes()
    with open_recording(tmp_path / "whole.trec") as reader:
        data_offset = reader.header.data_offset
    cut_path = tmp_path / "cut.trec"
    seen_counts = set()

    for cut in range(data_offset, len(whole) + 1):
        cut_path.write_bytes(whole[:cut])
        frames, integrity = read_all(cut_path)

        # a cut anywhere yields a prefix, and is never a clean (let alone empty) recording
        assert frames == expected_frames(len(frames)), cut
        assert integrity.ok, cut
        assert integrity.clean is (cut == len(whole)), cut
        seen_counts.add(len(frames))

    assert seen_counts == set(range(len(FRAMES) + 1))


def flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    return data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1 :]


def test_a_flipped_bit_in_any_byte_of_a_frame_names_that_frame(tmp_path: Path) -> None:
    # given a recording, and the byte range of its frame 2
    whole = write(tmp_path / "whole.trec", FRAMES).read_bytes()
    ends = frame_boundaries(tmp_path / "whole.trec")
    start, end = ends[1], ends[2]
    head_size = 26
    damaged = tmp_path / "damaged.trec"

    for offset in range(start, end):
        damaged.write_bytes(flip(whole, offset, bit=offset % 8))

        # when read strictly, then the error names the file and frame 2
        with (
            pytest.raises(RecordingError, match=r"frame 2: .*checksum mismatch"),
            open_recording(damaged) as reader,
        ):
            list(reader)

        # when read with skip, then frame 2 is reported and the rest read on if it can be
        frames, integrity = read_all(damaged, on_corrupt="skip")
        assert integrity.corrupt_frames == [2], offset
        if offset < start + head_size:  # the length itself is no longer trusted
            assert [f.index for f in frames] == [0, 1], offset
            assert integrity.unreadable_from == start
            assert integrity.stop_reason() == f"recording unreadable from frame 2 (byte {start})"
        else:
            assert frames == [f for f in expected_frames() if f.index != 2], offset
            assert integrity.unreadable_from is None


def test_a_flipped_bit_in_a_compressed_stream_is_never_silent(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.trec", FRAMES * 3, compress=True).read_bytes()
    with open_recording(tmp_path / "whole.trec") as reader:
        data_offset = reader.header.data_offset
    originals = {i: Frame(i, ts, user, payload) for i, (ts, user, payload) in enumerate(FRAMES * 3)}
    damaged = tmp_path / "damaged.trec"
    detected = 0

    for offset in range(data_offset, len(whole)):
        damaged.write_bytes(flip(whole, offset, bit=offset % 8))
        frames, integrity = read_all(damaged, on_corrupt="skip")

        # a damaged frame is never handed out as if it were intact
        assert all(frame == originals[frame.index] for frame in frames), offset
        if len(frames) < len(originals) or not integrity.clean:
            detected += 1

    assert detected > 0.9 * (len(whole) - data_offset)


def test_a_writer_killed_mid_run_leaves_every_written_frame(tmp_path: Path) -> None:
    # given a writer process killed by SIGKILL after 50 frames, without closing
    path = tmp_path / "killed.trec"
    compress_flags = ("0", "1")
    script = (
        "import os, signal, sys\n"
        "from treasure.recordings import RecordingWriter\n"
        "w = RecordingWriter(sys.argv[1], metadata={'scenario': 'k', 'users': 1},\n"
        "                    compress=sys.argv[2] == '1').__enter__()\n"
        "for i in range(50):\n"
        "    w.write(i, 'p-1', b'event_type: move\\n' * (i + 1))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for compress in compress_flags:
        run = subprocess.run([sys.executable, "-c", script, str(path), compress], check=False)
        assert run.returncode == -9

        # when its temporary file is read, then all 50 frames are there, intact, and the
        # file says it is incomplete; nothing appeared under the recording's own name
        assert not path.exists()
        (left,) = tmp_path.glob(".killed.trec.*.incomplete")
        frames, integrity = read_all(left)
        assert [len(f.payload) for f in frames] == [17 * (i + 1) for i in range(50)]
        assert integrity.ok
        assert not integrity.complete
        assert "incomplete" in integrity.stop_reason()
        left.unlink()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file, not a recording"),
        (b"event_type: move\nplayer_id: p-1\n", "not a recording"),
        (b"\x89TREC\r\n\x1a\x07\x00\x00\x00\x02\x00\x00\x00{}", "unknown recording version 7"),
    ],
)
def test_files_that_are_not_recordings_are_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.trec"
    path.write_bytes(content)

    with pytest.raises(RecordingError, match=message) as caught, open_recording(path):
        pass

    assert str(caught.value).startswith(f"{path}: ")


def test_a_damaged_header_is_refused(tmp_path: Path) -> None:
    whole = write(tmp_path / "r.trec", FRAMES).read_bytes()
    path = tmp_path / "bad.trec"
    path.write_bytes(flip(whole, 20))

    with pytest.raises(RecordingError, match="header checksum mismatch"), open_recording(path):
        pass


@pytest.mark.parametrize(
    "document",
    [b'{"created_at":"t","metadata":[1,2]}', b'{"created_at":"t","metadata":"x"}', b"[]"],
)
def test_a_header_whose_metadata_is_not_an_object_is_refused(
    tmp_path: Path, document: bytes
) -> None:
    # given a header, checksum intact, whose JSON is not an object holding an object
    start = FIXED.pack(MAGIC, VERSION, 0, len(document)) + document
    path = tmp_path / "odd.trec"
    path.write_bytes(start + struct.pack("<I", zlib.crc32(start)))
    # when it is opened, then it is one recording error naming the header
    with pytest.raises(RecordingError, match="header metadata is not valid"), open_recording(path):
        pass


def test_a_recording_that_is_not_a_regular_file_is_refused_before_it_is_opened(
    tmp_path: Path,
) -> None:
    # given a FIFO no one writes to (opening it would block) and a character device
    fifo = tmp_path / "capture.trec"
    os.mkfifo(fifo)
    # when each is opened as a recording, then it is one clear error naming its kind
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/null"), "a character device")):
        refused = pytest.raises(RecordingError, match=f"not a regular file \\({kind}\\)")
        with refused, open_recording(path):
            pass


def test_a_link_to_a_recording_is_read_through(tmp_path: Path) -> None:
    link = tmp_path / "link.trec"
    link.symlink_to(write(tmp_path / "r.trec", FRAMES))

    with open_recording(link) as reader:
        assert [frame.payload for frame in reader] == [payload for _, _, payload in FRAMES]


def test_a_missing_recording_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot open"), open_recording(tmp_path / "no"):
        pass


@pytest.mark.parametrize("compress", [False, True])
def test_reading_a_big_recording_uses_bounded_memory(tmp_path: Path, compress: bool) -> None:
    # given a recording of ~24 MB, twelve times the memory bound asserted below
    rng = random.Random(7)
    payload_size = 60_000
    path = tmp_path / "big.trec"
    with RecordingWriter(path, metadata={"users": 1}, compress=compress) as writer:
        for i in range(400):
            writer.write(i, "p-1", rng.randbytes(payload_size))
    assert path.stat().st_size > 24_000_000

    # when every frame is read and dropped under tracemalloc
    tracemalloc.start()
    try:
        frames = 0
        with open_recording(path) as reader:
            for frame in reader:
                frames += len(frame.payload) == payload_size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then memory peaked at a few chunks and frames, never near the file's size
    assert frames == 400
    assert peak < 2_000_000


def test_scan_summarises_frames_sizes_users_and_time(tmp_path: Path) -> None:
    path = write(tmp_path / "r.trec", FRAMES)

    stats = scan(path)

    sizes = sorted(len(p) for _, _, p in FRAMES)
    assert stats.frames == 5
    assert stats.payload_bytes == sum(sizes)
    assert stats.duration_ns == 12_000 - 1_000
    assert stats.rate_per_s == pytest.approx(4 * 1e9 / 11_000)
    assert stats.payload_p50 == sizes[2]
    assert stats.payload_max == sizes[-1]
    assert stats.distinct_users == 4
    assert stats.metadata["scenario"] == "unit"
    assert stats.integrity.clean
    assert count_frames(path) == 5


def test_percentiles_of_counted_sizes() -> None:
    counts = Counter({100: 90, 500: 9, 9000: 1})

    assert percentile_of_counts(counts, 0.50) == 100
    assert percentile_of_counts(counts, 0.90) == 100
    assert percentile_of_counts(counts, 0.99) == 500
    assert percentile_of_counts(counts, 1.0) == 9000
    assert percentile_of_counts(Counter(), 0.5) == 0


def v1_recording(frames: list[tuple[int, str, bytes]]) -> bytes:
    """A version 1 file byte by byte as docs/recording-format.md describes it (no sequence
    numbers, no trailer), as treasure wrote before version 2."""
    body = b'{"created_at":"2024-01-01T00:00:00Z","metadata":{"scenario":"old","users":2}}'
    start = struct.pack("<8sHHI", b"\x89TREC\r\n\x1a", 1, 0, len(body)) + body
    parts = [start, struct.pack("<I", zlib.crc32(start))]
    for timestamp, user_id, payload in frames:
        user = user_id.encode()
        head = struct.pack("<IHq", len(payload), len(user), timestamp)
        parts += [head, struct.pack("<I", zlib.crc32(head)), user, payload]
        parts.append(struct.pack("<I", zlib.crc32(payload, zlib.crc32(user))))
    return b"".join(parts)


def test_version_1_recordings_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.trec"
    path.write_bytes(v1_recording(FRAMES))

    frames, integrity = read_all(path)

    assert frames == expected_frames()
    assert integrity.version == 1
    assert integrity.clean  # a v1 file cannot tell more than "no torn tail, no damage"
    assert integrity.recorded_frames == len(FRAMES)
    assert integrity.frames_declared is None


def test_the_committed_hostile_recording_is_read_as_version_1() -> None:
    hostile = Path(__file__).resolve().parents[2] / "recordings" / "hostile-mixed.trec"

    frames, integrity = read_all(hostile)

    assert integrity.version == 1
    assert len(frames) == 11
    assert integrity.clean


def test_an_empty_recording_is_complete_and_a_header_alone_is_not(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.trec", [])
    frames, integrity = read_all(empty)
    assert frames == []
    assert integrity.clean
    assert integrity.frames_declared == 0

    with open_recording(empty) as reader:
        data_offset = reader.header.data_offset
    header_only = tmp_path / "header.trec"
    header_only.write_bytes(empty.read_bytes()[:data_offset])
    frames, integrity = read_all(header_only)
    assert frames == []
    assert integrity.ok
    assert not integrity.complete
    assert integrity.recorded_frames is None


def test_an_error_while_writing_keeps_the_old_recording(tmp_path: Path) -> None:
    # given a complete recording at a path
    path = write(tmp_path / "r.trec", FRAMES)
    before = path.read_bytes()

    # when a new writer for the same path fails half-way
    with (  # noqa: PT012
        pytest.raises(ValueError, match="over 65535"),
        RecordingWriter(path, metadata={"users": 1}) as writer,
    ):
        writer.write(0, "p-1", b"replacement")
        writer.write(1, "u" * 70_000, b"a user id too long for the format")

    # then the old recording is untouched and no temporary file is left behind
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.trec"]


def test_data_after_the_trailer_is_damage(tmp_path: Path) -> None:
    path = write(tmp_path / "r.trec", FRAMES)
    path.write_bytes(path.read_bytes() + b"\x00")

    with pytest.raises(RecordingError, match=r"trailer at byte \d+: data follows it"):
        read_all(path)
    frames, integrity = read_all(path, on_corrupt="skip")
    assert frames == expected_frames()
    assert not integrity.ok
