"""The recording format: round trips, torn tails, bit flips, bounded memory, scan."""

from __future__ import annotations

import random
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from treasure.errors import RecordingError
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
    assert header.version == 1
    assert header.compressed is compress
    assert header.metadata == {"scenario": "unit", "users": 3, "note": {"why": "tests"}}
    assert header.created_at.endswith("Z")
    assert integrity.frames_ok == len(FRAMES)
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
    for timestamp, user, payload in FRAMES:
        offset += len(encode_frame(timestamp, user, payload))
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

        # then every frame ending at or before the cut comes back, and only those
        complete = sum(1 for end in ends if end <= cut)
        assert frames == expected_frames(complete), cut
        boundary = cut == data_offset or cut in ends
        assert integrity.torn_tail is not boundary, cut
        expected_offset = None if boundary else ([data_offset, *ends])[complete]
        assert integrity.torn_offset == expected_offset, cut
        assert integrity.ok, cut


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

        assert frames == expected_frames(len(frames)), cut
        assert integrity.ok, cut
        seen_counts.add(len(frames))

    assert seen_counts == set(range(len(FRAMES) + 1))


def flip(data: bytes, offset: int, bit: int = 0) -> bytes:
    return data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1 :]


def test_a_flipped_bit_in_any_byte_of_a_frame_names_that_frame(tmp_path: Path) -> None:
    # given a recording, and the byte range of its frame 2
    whole = write(tmp_path / "whole.trec", FRAMES).read_bytes()
    ends = frame_boundaries(tmp_path / "whole.trec")
    start, end = ends[1], ends[2]
    head_size = 18
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
    script = (
        "import os, signal, sys\n"
        "from treasure.recordings import RecordingWriter\n"
        "w = RecordingWriter(sys.argv[1], metadata={'scenario': 'k', 'users': 1},\n"
        "                    compress=sys.argv[2] == '1').__enter__()\n"
        "for i in range(50):\n"
        "    w.write(i, 'p-1', b'event_type: move\\n' * (i + 1))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for compress in ("0", "1"):
        run = subprocess.run([sys.executable, "-c", script, str(path), compress], check=False)
        assert run.returncode == -9

        # when the recording is read, then all 50 frames are there, intact
        frames, integrity = read_all(path)
        assert [len(f.payload) for f in frames] == [17 * (i + 1) for i in range(50)]
        assert integrity.clean


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
