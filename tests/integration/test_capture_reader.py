"""treasure-rs's reader of memray captures against memray's own, on real heap passes.

Each case runs a real heap pass of a ground-truth backend in a fresh worker, then splits
its capture with both readers: the figures must be equal field by field, and a capture cut
short must end the same way (the same figures, or the same classified error).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.groundtruth.native import build_library

from treasure.passes.heap import COMPRESS_SWITCH
from treasure.passes.launch import run_worker
from treasure.probes import heap, unwatched
from treasure.probes._heap_records import CaptureAnalysis, CaptureMismatch, TracedMessage
from treasure.results import HeapSummary, ReplayConfig

pytestmark = pytest.mark.integration

Capture = Callable[..., Path]


@pytest.fixture(scope="module", autouse=True)
def compiled_library() -> None:
    build_library()


@pytest.fixture
def capture(
    tmp_path: Path, make_recording: MakeRecording, monkeypatch: pytest.MonkeyPatch
) -> Capture:
    """The memray capture of a heap pass worker over `messages` copies of a message."""

    def run(backend: str, messages: int, *, watched: bool = False, lz4: bool = True) -> Path:
        monkeypatch.setenv(unwatched.SWITCH, "0" if watched else "1")
        monkeypatch.setenv(COMPRESS_SWITCH, "1" if lz4 else "0")
        name = backend.rsplit(":", 1)[-1]
        recording = make_recording([EVENT_MESSAGE] * messages, name=f"{name}.trec", users=20)
        replay = ReplayConfig(
            backend=backend, recording=str(recording), warmup=0, heap=True, heap_messages=messages
        )
        config_path = tmp_path / f"{name}-config.json"
        config_path.write_bytes(msgspec.json.encode(replay))
        finished = run_worker(
            "heap", config_path, replay, None, "--artefact-dir", str(tmp_path / name)
        )
        summary = msgspec.json.decode(finished.figures, type=HeapSummary)
        assert summary.capture_reader == heap.NATIVE_READER, summary.capture_reader_note
        return Path(summary.artefacts["memray_capture"])

    return run


def figures(analysis: CaptureAnalysis) -> dict[str, object]:
    found = dataclasses.asdict(analysis)
    del found["reader"], found["reader_note"]
    return found


def outcome(read: Callable[[], CaptureAnalysis | str]) -> object:
    """The figures, or the error's class and message."""
    try:
        found = read()
    except CaptureMismatch as exc:
        return (type(exc).__name__, str(exc))
    return found if isinstance(found, str) else figures(found)


def traced(count: int) -> list[TracedMessage]:
    return [TracedMessage(index, index * 10) for index in range(count)]


def assert_same(path: Path, messages: int, may_end_early: bool = False) -> object:
    ours = outcome(lambda: heap._analyse_natively(path, traced(messages), may_end_early))
    theirs = outcome(lambda: heap.analyse_with_memray(path, traced(messages), may_end_early))
    assert not isinstance(ours, str), ours  # the native reader read it
    assert ours == theirs
    return ours


@pytest.mark.parametrize(
    ("backend", "messages", "watched", "lz4"),
    [
        ("pyyaml-dom", 40, False, True),
        ("pyyaml-dom", 15, True, False),
        ("tests.groundtruth.heap_truth:HelperThread64K", 30, False, False),
        ("tests.groundtruth.heap_truth:PythonThread40K", 20, True, True),
        ("tests.groundtruth.heap_truth:LeakEvery3rd", 30, False, True),
        ("tests.groundtruth.native:NativeLeakEvery3rd", 12, True, True),
    ],
)
def test_native_split_equals_memrays(
    capture: Capture, backend: str, messages: int, watched: bool, lz4: bool
) -> None:
    # given a real capture of a ground-truth backend
    path = capture(backend, messages, watched=watched, lz4=lz4)
    # then both readers give the same figures, field by field, and they are not empty
    found = assert_same(path, messages)
    assert isinstance(found, dict)
    assert len(found["messages"]) == messages
    assert found["records"] > 0
    # and the wrong count of traced messages is the same mismatch from both
    assert_same(path, messages - 1)
    assert_same(path, messages + 1)


def test_a_capture_cut_short_ends_the_same_way(capture: Capture, tmp_path: Path) -> None:
    # given a real uncompressed capture, cut at several places (as a full disk cuts it)
    whole = capture("pyyaml-dom", 20, lz4=False).read_bytes()
    ends = [len(whole) * share // 100 for share in (20, 45, 70, 95)]
    ends += [end + step for end in ends[:2] for step in (1, 3, 7)]  # inside a record
    kinds = set()
    for end in ends:
        cut = tmp_path / f"cut-{end}.memray"
        cut.write_bytes(whole[:end])
        # then both readers split it the same way, with and without an early end allowed
        for may_end_early in (False, True):
            found = assert_same(cut, 20, may_end_early)
            kinds.add(found[0] if isinstance(found, tuple) else "figures")
    assert "figures" in kinds
    assert kinds & {"CaptureCut", "CaptureMismatch"}


def test_what_the_native_reader_cannot_read_falls_back_to_memrays(
    capture: Capture, tmp_path: Path
) -> None:
    # given a real capture with its format version changed, and one that is not a capture
    whole = bytearray(capture("tests.groundtruth.heap_truth:NoOp", 5, lz4=False).read_bytes())
    newer = tmp_path / "newer.memray"
    whole[7] += 1  # the version follows the 7-byte magic
    newer.write_bytes(whole)
    other = tmp_path / "other.memray"
    other.write_bytes(b"not a capture at all")
    # then the native reader says why it cannot read them, never a figure
    reason = heap._analyse_natively(newer, traced(5), False)
    assert isinstance(reason, str)
    assert "format version" in reason
    assert "magic" in str(heap._analyse_natively(other, traced(5), False))
