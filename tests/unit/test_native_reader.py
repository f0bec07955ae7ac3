"""The native frame decoder and the native timing loop against their pure-Python versions:
on the same damaged recordings both read the same frames, the same Integrity and the same
error; on the same backends both loops count the same messages, errors and routed frames."""

from __future__ import annotations

import random
import re
import weakref
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.unit.test_recording_mutations import byte_flips, frame_mutations, make_sample
from tests.unit.test_recordings import v1_recording

import treasure.passes.timing as timing
import treasure.recordings as recordings
from treasure.errors import RecordingError
from treasure.parsers import BackendKind, ErrorCategory, ParseError
from treasure.recording_format import CRC, HEAD_V2, encode_header
from treasure.recordings import (
    NATIVE_DECODE,
    READ_CHUNK,
    Frame,
    Integrity,
    OnCorrupt,
    RecordingWriter,
    open_recording,
)
from treasure.results import ReplayConfig

pytestmark = pytest.mark.skipif(NATIVE_DECODE is None, reason="treasure-rs is not built")

Outcome = tuple[list[Frame], Integrity | None, str]


def read(path: Path, on_corrupt: OnCorrupt, native: bool) -> Outcome:
    """Every frame read, the integrity (None: the read raised) and the error's message."""
    frames: list[Frame] = []
    try:
        with open_recording(path, on_corrupt=on_corrupt, native=native) as reader:
            frames.extend(reader)
            return frames, reader.integrity, ""
    except RecordingError as exc:  # the header, or a damaged frame when raising
        return frames, None, str(exc)


def damaged_files(folder: Path, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    plain = make_sample(folder / "plain.trec", rng, rng.randrange(3, 14))
    other = make_sample(folder / "other.trec", random.Random(seed + 1), len(plain.frames))
    packed = make_sample(folder / "packed.trec", rng, rng.randrange(3, 14), compress=True)
    yield "intact", plain.data
    yield from frame_mutations(plain, other, rng)
    for data in byte_flips(plain.data, rng, 80):
        yield "bit flip", data
    start = packed.spans[0][0]
    for cut in range(start, len(packed.data), 7):
        yield "zstd cut", packed.data[:cut]
    for data in byte_flips(packed.data, rng, 40, start):
        yield "zstd bit flip", data
    old = v1_recording([(i, f"u-{i % 3}", rng.randbytes(rng.randrange(90))) for i in range(9)])
    yield "v1", old
    for cut in range(len(old) - 200, len(old)):
        yield "v1 cut", old[:cut]
    for data in byte_flips(old, rng, 60, 40):
        yield "v1 bit flip", data


def test_both_readers_agree_on_every_damaged_recording(tmp_path: Path) -> None:
    path = tmp_path / "mutated.trec"
    kinds: set[str] = set()
    for seed in range(2):
        for kind, data in damaged_files(tmp_path, seed):
            path.write_bytes(data)
            for on_corrupt in ("raise", "skip"):
                python = read(path, on_corrupt, native=False)
                native = read(path, on_corrupt, native=True)
                assert native == python, (kind, seed, on_corrupt)
            kinds.add(kind)
    assert len(kinds) > 10


def test_frames_larger_than_a_read_chunk_and_a_bad_user_id(tmp_path: Path) -> None:
    path = tmp_path / "big.trec"
    rng = random.Random(3)
    sizes = [10, READ_CHUNK * 3 + 5, 0, READ_CHUNK - 40, 1, READ_CHUNK + 1, 7]
    with RecordingWriter(path, metadata={"scenario": "big", "users": 2}) as writer:
        for i, size in enumerate(sizes):
            writer.write(i, "ü-1" if i % 2 else "", rng.randbytes(size))
    python, native = read(path, "raise", native=False), read(path, "raise", native=True)
    assert native == python
    assert [len(frame.payload) for frame in native[0]] == sizes
    assert native[1] is not None
    assert native[1].clean


@pytest.mark.parametrize("chunk", [40, 300, 1_000])
def test_both_readers_agree_when_the_refill_buffer_cuts_frames_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # given the native reader's own buffer smaller than a frame, about one, a few frames
    monkeypatch.setattr(recordings, "REFILL_CHUNK", chunk)
    path = tmp_path / "mutated.trec"
    for kind, data in damaged_files(tmp_path, seed=7):
        path.write_bytes(data)
        # then refills in place read what the pure-Python reader reads, damage and all
        for on_corrupt in ("raise", "skip"):
            python = read(path, on_corrupt, native=False)
            assert read(path, on_corrupt, native=True) == python, (kind, chunk, on_corrupt)


def test_what_a_short_last_refill_leaves_in_the_buffer_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given v1 frames (no sequence numbers) of one size, the buffer four of them long: the
    # last refill reads two, and the buffer's tail still holds intact frames 2 and 3
    rows = [(i, "u", bytes([65 + i]) * 50) for i in range(6)]
    path = tmp_path / "old.trec"
    path.write_bytes(v1_recording(rows))
    frame_size = 18 + 1 + 50 + 4
    monkeypatch.setattr(recordings, "REFILL_CHUNK", 4 * frame_size)
    frames, integrity, error = read(path, "raise", native=True)
    # then the frames are the file's six, and the file ends clean after them
    assert not error
    assert [frame.payload[:1] for frame in frames] == [bytes([65 + i]) for i in range(6)]
    assert integrity is not None
    assert integrity.clean
    assert (frames, integrity, error) == read(path, "raise", native=False)


def v2_frame(sequence: int, user: bytes, payload: bytes) -> bytes:
    head = HEAD_V2.pack(len(payload), len(user), sequence, 1_000 * sequence)
    head_crc = zlib.crc32(head)
    body_crc = zlib.crc32(payload, zlib.crc32(user, head_crc))
    return b"".join((head, CRC.pack(head_crc), user, payload, CRC.pack(body_crc)))


def test_a_user_id_that_is_not_utf8_is_damage_to_its_frame_alone(tmp_path: Path) -> None:
    path = tmp_path / "r.trec"
    users = [b"a", b"\xff\xfe", b"\xed\xa0\x80", "ü".encode(), b"b"]  # two not UTF-8
    frames = b"".join(v2_frame(i, user, b"x: 1\n") for i, user in enumerate(users))
    path.write_bytes(encode_header({"scenario": "s", "users": 2}) + frames)
    for on_corrupt in ("raise", "skip"):
        python = read(path, on_corrupt, native=False)
        assert read(path, on_corrupt, native=True) == python
    assert [frame.index for frame in python[0]] == [0, 3, 4]
    assert python[1] is not None
    assert python[1].corrupt_frames == [1, 2]


@pytest.mark.parametrize("native", [False, True])
def test_a_reader_stopped_early_counts_only_the_frames_it_gave(
    tmp_path: Path, native: bool
) -> None:
    path = tmp_path / "r.trec"
    with RecordingWriter(path, metadata={"scenario": "s", "users": 1}) as writer:
        for i in range(500):
            writer.write(i, "u", b"x" * 300)
    with open_recording(path, native=native) as reader:
        frames = iter(reader)
        taken = list(islice(frames, 123))
        del frames  # the caller lets the iterator go
        integrity = reader.integrity
    assert [frame.index for frame in taken] == list(range(123))
    assert integrity.frames_ok == 123
    assert not integrity.ended


def test_the_native_decoder_is_refused_when_asked_for_and_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.trec"
    with RecordingWriter(path, metadata={"scenario": "s", "users": 1}) as writer:
        writer.write(0, "u", b"x")
    monkeypatch.setattr("treasure.recordings.NATIVE_DECODE", None)
    with pytest.raises(ValueError, match="native frame decoder"), open_recording(path, native=True):
        pass
    assert read(path, "raise", native=False)[1] is not None


GT = "tests.groundtruth.timing"
HOSTILE_PAYLOADS = [
    EVENT_MESSAGE + b" " * (i % 17) + (b"#reject" if i % 3 == 0 else b"") for i in range(260)
]


def both_loops(
    monkeypatch: pytest.MonkeyPatch, config: ReplayConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    def figures() -> dict[str, Any]:
        run = timing.run_timing_pass(config)
        return {
            "messages": run.messages,
            "errors": run.errors,
            "samples": run.error_samples,
            "stopped": run.stopped_early,
            "routed": (run.routed_count, run.routed_digest),
            "sizes": run.payload_size,
            "latencies": run.latency is not None and run.latency.uncorrected.count,
        }

    native = figures()
    monkeypatch.setattr(timing, "NATIVE_TIMING", None)
    python = figures()
    monkeypatch.undo()
    return native, python


@pytest.mark.skipif(timing.NATIVE_TIMING is None, reason="treasure-rs is not built")
@pytest.mark.parametrize(
    ("backend", "keep", "fail_fast"),
    [
        (f"{GT}:RejectEveryThird", "nothing", False),
        (f"{GT}:RejectEveryThird", "record", False),
        ("pyyaml-dom", "document", False),
        (f"{GT}:RejectEveryThird", "nothing", True),
    ],
)
def test_the_native_loop_counts_what_the_python_loop_counts(
    make_recording: MakeRecording,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    keep: str,
    fail_fast: bool,
) -> None:
    recording = make_recording(HOSTILE_PAYLOADS)
    config = ReplayConfig(
        backend=backend,
        recording=str(recording),
        warmup=5,
        limit=240,
        keep=keep,  # type: ignore[arg-type]
        fail_fast=fail_fast,
    )
    native, python = both_loops(monkeypatch, config)
    assert native == python
    assert native["messages"] == (2 if fail_fast else 240)  # frames 5-244: every third rejected
    if backend.endswith("RejectEveryThird"):
        assert native["errors"] == {"syntax": 1 if fail_fast else 80}


class NotATuple:
    """Returns a list: a contract violation, counted, never routed."""

    name: ClassVar[str] = "not-a-tuple"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, **_: object) -> None:
        self.calls = 0

    def route(self, payload: bytes) -> object:
        self.calls += 1
        if self.calls % 4 == 0:
            raise KeyError("unclassified on purpose")
        return ["not", "a", "tuple"] if self.calls % 5 == 0 else ("a", "b", "c")


@pytest.mark.skipif(timing.NATIVE_TIMING is None, reason="treasure-rs is not built")
def test_the_native_loop_classifies_contract_violations_and_bugs(
    make_recording: MakeRecording, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = make_recording([EVENT_MESSAGE] * 150)
    config = ReplayConfig(
        backend=f"{__name__}:NotATuple", recording=str(recording), warmup=0, limit=140
    )
    native, python = both_loops(monkeypatch, config)
    assert native == python
    assert native["errors"] == {"unclassified": 35, "contract-violation": 21}
    assert native["routed"][0] == 140 - 35 - 21


class RejectOddBytes:
    """Rejects a payload whose first byte is odd (random payloads: about half), routes the
    rest: errors and routed frames both depend on which frames the reader gave."""

    name: ClassVar[str] = "reject-odd-bytes"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, **_: object) -> None:
        pass

    def route(self, payload: bytes) -> tuple[str, str, str]:
        if payload[:1] and payload[0] & 1:
            raise ParseError(ErrorCategory.SYNTAX, "odd on purpose")
        return ("a", "b", str(len(payload)))


@pytest.mark.skipif(timing.NATIVE_TIMING is None, reason="treasure-rs is not built")
@pytest.mark.parametrize(
    ("keep", "shard", "warmup", "share"),
    [
        ("nothing", "", 0, 0),
        ("record", "", 2, 1),
        ("nothing", "1/2", 1, 2),
        ("record", "0/3", 0, 3),
    ],
)
def test_the_native_loop_measures_damaged_recordings_as_the_python_loop_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: str, shard: str, warmup: int, share: int
) -> None:
    """Every kind of damaged recording the readers are held to, through the whole timing
    pass: the same frames measured, skipped as corrupt, routed, rejected, and the same stop.
    Bounded in time: every file of the kinds that move, lose or repeat frames (a few
    each), and of the many cuts and bit flips the first and one in 32 of the rest, a
    different one for each case (`share`)."""
    path = tmp_path / "mutated.trec"
    kinds: Counter[str] = Counter()
    files = list(damaged_files(tmp_path, seed=7))
    of_kind = Counter(kind for kind, _ in files)
    seen: Counter[str] = Counter()
    for index, (kind, data) in enumerate(files):
        ordinal = seen[kind]
        seen[kind] += 1
        if of_kind[kind] > 16 and ordinal and ordinal % 32 != 8 * share + 1:
            continue
        path.write_bytes(data)
        config = ReplayConfig(
            backend=f"{__name__}:RejectOddBytes",
            recording=str(path),
            warmup=warmup,
            keep=keep,  # type: ignore[arg-type]
            shard=shard,
        )
        try:
            native, python = both_loops(monkeypatch, config)
        except RecordingError as exc:  # a header the pass refuses: refused by both
            with pytest.raises(RecordingError, match=re.escape(str(exc))):
                timing.run_timing_pass(config)
            kinds["refused"] += 1
            continue
        assert native == python, (kind, index)
        kinds[kind] += 1
    assert kinds["intact"] == 1
    assert len(kinds) > 8, kinds


@pytest.mark.skipif(timing.NATIVE_TIMING is None, reason="treasure-rs is not built")
def test_the_native_loop_counts_payload_sizes_of_every_range(
    make_recording: MakeRecording, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sizes counted in place (under 4 KiB) and in the map above it, an empty payload and
    frames larger than a read chunk: the same size histogram and payload bytes either way."""
    sizes = [0, 1, 511, 512, 513, 4095, 4096, 65_536, 70_000, 200_000, 513, 0, 4096] * 3
    recording = make_recording([b"k" * size for size in sizes])
    config = ReplayConfig(backend=f"{GT}:NoOp", recording=str(recording), warmup=0)
    native, python = both_loops(monkeypatch, config)
    assert native == python
    run = timing.run_timing_pass(config)
    assert run.recording.payload_bytes_measured == sum(sizes)
    assert run.payload_size is not None
    assert run.payload_size.count == len(sizes)
    ordered = sorted(sizes)  # exact, sizes past a histogram's exact range too
    assert (run.payload_size.min, run.payload_size.max) == (0, 200_000)
    assert run.payload_size.p50 == ordered[len(sizes) // 2]
    assert run.payload_size.p99 == ordered[-1]
    assert run.payload_size.mean == pytest.approx(sum(sizes) / len(sizes), rel=1e-12)


class Held:
    """A routing field that can be watched: alive while a result holding it is kept."""

    def __init__(self, index: int) -> None:
        self.index = index


@pytest.mark.skipif(timing.NATIVE_IN_FLIGHT is None, reason="treasure-rs is not built")
@pytest.mark.parametrize("in_flight", [1, 3, 50])
def test_the_native_window_keeps_exactly_the_last_results(
    make_recording: MakeRecording, in_flight: int
) -> None:
    """The timing loop's native in-flight window against a deque of the same length, fed
    by the same loop: the same results kept, in order, and every older one released."""
    assert timing.NATIVE_IN_FLIGHT is not None
    recording = make_recording([b"a: %d\n" % i for i in range(40)])
    results: list[weakref.ref[Held]] = []

    def route(payload: bytes) -> tuple[object, ...]:
        field = Held(len(results))
        results.append(weakref.ref(field))
        return (field, "p", "s")

    kept: dict[str, list[int]] = {}
    window = timing.NATIVE_IN_FLIGHT(in_flight)
    for way in ("native", "deque"):
        fallback: deque[Any] = deque(maxlen=in_flight)
        results.clear()
        with open_recording(recording) as reader:
            (run,) = list(islice(reader.runs(), 1))
            assert not isinstance(run, tuple)
            latencies, routed = array("q", [0]) * 40, array("q", [0]) * 40
            sizes = run.size_counts()
            keep = window if way == "native" else fallback.append
            taken = run.time(route, latencies, 0, sizes, routed, 0, keep, True, True, 40)
            assert taken[:3] == (40, 40, 0)
        held = window.items() if way == "native" else list(fallback)
        kept[way] = [cast("tuple[Held, str, str]", item)[0].index for item in held]
        alive = [i for i, ref in enumerate(results) if ref() is not None]
        assert alive == kept[way], way  # the rest were released as they were evicted
        del held
    assert kept["native"] == kept["deque"] == list(range(40 - min(in_flight, 40), 40))
    assert len(window) == min(in_flight, 40)
    assert window.maxlen == in_flight
    window.clear()
    assert len(window) == 0
    with pytest.raises(ValueError, match="at least 1"):
        timing.NATIVE_IN_FLIGHT(0)
