"""A mutation fuzz of recordings: every mutation is detected, or what is read back equals the
original frames. Bounded here; `make fuzz-recordings` runs it longer (TREASURE_FUZZ_ROUNDS).

Whole frames duplicated, deleted, swapped, spliced in from another recording; cuts at every
frame boundary and at random offsets; flipped bits; cuts and flips of a zstd recording.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from treasure.errors import RecordingError
from treasure.recordings import Frame, OnCorrupt, RecordingWriter, encode_frame, open_recording

ROUNDS = int(os.environ.get("TREASURE_FUZZ_ROUNDS", "1"))


@dataclass(frozen=True)
class Sample:
    """A recording's bytes and where each of its frames lies."""

    data: bytes
    frames: list[Frame]
    spans: list[tuple[int, int]]  # [start, end) of each frame; the trailer follows the last

    def frame_bytes(self, index: int) -> bytes:
        start, end = self.spans[index]
        return self.data[start:end]

    @property
    def trailer_start(self) -> int:
        return self.spans[-1][1]


def make_sample(path: Path, rng: random.Random, count: int, *, compress: bool = False) -> Sample:
    rows = [
        (
            1_000 * i + rng.randrange(1_000),
            f"p-{rng.randrange(5):06d}",
            rng.randbytes(rng.randrange(200)),
        )
        for i in range(count)
    ]
    with RecordingWriter(path, metadata={"scenario": "fuzz", "users": 5}, compress=compress) as w:
        for timestamp, user, payload in rows:
            w.write(timestamp, user, payload)
    data = path.read_bytes()
    with open_recording(path) as reader:
        offset = reader.header.data_offset
    spans = []
    for sequence, (timestamp, user, payload) in enumerate(rows):
        size = len(encode_frame(timestamp, user, payload, sequence))
        spans.append((offset, offset + size))
        offset += size
    frames = [Frame(i, ts, user, payload) for i, (ts, user, payload) in enumerate(rows)]
    return Sample(data, frames, spans)


def frame_mutations(
    sample: Sample, other: Sample, rng: random.Random
) -> Iterator[tuple[str, bytes]]:
    """Mutations of whole frames and cuts, on an uncompressed recording."""
    data, n = sample.data, len(sample.frames)
    head, tail = data[: sample.spans[0][0]], data[sample.trailer_start :]
    pieces = [sample.frame_bytes(i) for i in range(n)]

    def join(frames: list[bytes], trailer: bytes = tail) -> bytes:
        return head + b"".join(frames) + trailer

    for i in range(n):
        yield "duplicate", join([*pieces[: i + 1], *pieces[i:]])
        yield "delete", join([*pieces[:i], *pieces[i + 1 :]])
        yield "splice", join([*pieces[:i], other.frame_bytes(i), *pieces[i + 1 :]])
    for i in range(n - 1):
        j = rng.randrange(i + 1, n)
        for a, b in ((i, i + 1), (i, j)):
            swapped = list(pieces)
            swapped[a], swapped[b] = swapped[b], swapped[a]
            yield "swap", join(swapped)
    for _, end in [(0, sample.spans[0][0]), *sample.spans]:
        yield "cut at a frame boundary", data[:end]
        yield "cut at a boundary, trailer kept", data[:end] + tail
    yield "trailer deleted", join(pieces, b"")
    yield "trailer repeated", data + tail
    for _ in range(60):
        cut = rng.randrange(sample.spans[0][0], len(data))
        yield "cut at a random offset", data[:cut]


def byte_flips(data: bytes, rng: random.Random, count: int, start: int = 0) -> Iterator[bytes]:
    for _ in range(count):
        offset = rng.randrange(start, len(data))
        yield data[:offset] + bytes([data[offset] ^ (1 << rng.randrange(8))]) + data[offset + 1 :]


def read_as(path: Path, on_corrupt: OnCorrupt) -> tuple[list[Frame], bool] | None:
    """The frames read and whether the recording is clean; None when reading raised."""
    try:
        with open_recording(path, on_corrupt=on_corrupt) as reader:
            return list(reader), reader.integrity.clean
    except RecordingError:
        return None


def verdict(path: Path, original: list[Frame]) -> str:
    """'detected' when both a strict and a skipping read say so (an error, or a recording
    that is not clean); 'equal' when both read back the original frames from a clean file;
    anything else, a difference one of them passes silently, is 'SURVIVED'."""
    reads = [read_as(path, "raise"), read_as(path, "skip")]
    if all(read is None or not read[1] for read in reads):
        return "detected"
    if all(read is not None and read == (original, True) for read in reads):
        return "equal"
    return "SURVIVED"


def run_round(tmp_path: Path, seed: int) -> Counter[tuple[str, str]]:
    rng = random.Random(seed)
    tally: Counter[tuple[str, str]] = Counter()
    mutated = tmp_path / "mutated.trec"
    plain = make_sample(tmp_path / "plain.trec", rng, rng.randrange(3, 14))
    other = make_sample(tmp_path / "other.trec", random.Random(seed + 1), len(plain.frames))
    packed = make_sample(tmp_path / "packed.trec", rng, rng.randrange(3, 14), compress=True)

    def judge(kind: str, data: bytes, original: list[Frame]) -> None:
        mutated.write_bytes(data)
        tally[kind, verdict(mutated, original)] += 1

    for kind, data in frame_mutations(plain, other, rng):
        judge(kind, data, plain.frames)
    for data in byte_flips(plain.data, rng, 150):
        judge("bit flip", data, plain.frames)
    start = packed.spans[0][0]
    for cut in range(start, len(packed.data)):
        judge("zstd cut at every byte", packed.data[:cut], packed.frames)
    for data in byte_flips(packed.data, rng, 150, start):
        judge("zstd bit flip", data, packed.frames)
    return tally


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory for thousands of small rewrites: tmpfs where there is one (a rewrite on
    this disk costs ~3 ms, on tmpfs ~25 µs), else pytest's own."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="treasure-fuzz-") as directory:
        yield Path(directory)


def test_every_mutation_of_a_recording_is_detected_or_harmless(scratch: Path) -> None:
    tally: Counter[tuple[str, str]] = Counter()
    for seed in range(ROUNDS * 3):
        tally += run_round(scratch, seed)

    survived = {kind: count for (kind, outcome), count in tally.items() if outcome == "SURVIVED"}
    kinds = sorted({kind for kind, _ in tally})
    print("\nmutation kind                       tried  detected  equal  survived")
    for kind in kinds:
        row = [tally[kind, outcome] for outcome in ("detected", "equal", "SURVIVED")]
        print(f"{kind:34} {sum(row):6} {row[0]:9} {row[1]:6} {row[2]:9}")
    assert survived == {}
    # the mutations that change frames must be caught, not pass as equal by accident
    for kind in ("duplicate", "delete", "swap", "splice", "cut at a frame boundary"):
        assert tally[kind, "detected"] > 0, kind
    assert tally["zstd cut at every byte", "equal"] == 0


@pytest.mark.parametrize("compress", [False, True])
def test_a_cut_at_every_frame_boundary_is_never_a_clean_recording(
    scratch: Path, compress: bool
) -> None:
    sample = make_sample(scratch / "r.trec", random.Random(5), 6, compress=compress)
    data = (scratch / "r.trec").read_bytes()
    cut = scratch / "cut.trec"
    ends = [sample.spans[0][0], *(end for _, end in sample.spans)] if not compress else []
    for end in ends or range(sample.spans[0][0], len(data)):
        cut.write_bytes(data[:end])
        with open_recording(cut, on_corrupt="skip") as reader:
            frames = list(reader)
            integrity = reader.integrity
        assert not integrity.clean, end
        assert integrity.recorded_frames in (None, len(sample.frames)), end
        assert "incomplete" in integrity.stop_reason() or "torn" in integrity.stop_reason()
        assert frames == sample.frames[: len(frames)]
