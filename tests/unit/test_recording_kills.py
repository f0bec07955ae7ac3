"""SIGKILL of a real process writing a recording over an existing one, at random moments:
afterwards the path holds the old recording intact or the new one complete, never a part,
and whatever temporary file the kill left reads as incomplete.
`make fuzz-recordings` runs more kills (TREASURE_FUZZ_KILLS)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from treasure.errors import RecordingError
from treasure.recordings import RecordingWriter, open_recording

KILLS = int(os.environ.get("TREASURE_FUZZ_KILLS", "8"))
NEW_FRAMES = 3_000

WRITER = """
import sys
COUNT = int(sys.argv[4])
from treasure.recordings import RecordingWriter
path, compress, buffer_bytes = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
print("ready", flush=True)
with RecordingWriter(path, metadata={"scenario": "new", "users": 7}, compress=compress,
                     buffer_bytes=buffer_bytes) as writer:
    for i in range(COUNT):
        writer.write(i, f"p-{i % 7}", b"event_type: move\\nseq: %d\\n" % i + b"x" * (i % 300))
print("done", flush=True)
"""


def write_old(path: Path) -> bytes:
    with RecordingWriter(path, metadata={"scenario": "old", "users": 1}) as writer:
        for i in range(40):
            writer.write(i, "p-old", b"old message %d" % i)
    return path.read_bytes()


def start_writer(path: Path, compress: bool, buffer_bytes: int) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-c",
        WRITER,
        str(path),
        "1" if compress else "0",
        str(buffer_bytes),
        str(NEW_FRAMES),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def writing_time(tmp_path: Path) -> float:
    """How long one whole write takes here: kill moments are drawn across it (a little past
    its end too, so that some kills land after the rename)."""
    process = start_writer(tmp_path / "calibrate.trec", False, 0)
    started = time.perf_counter()
    assert process.wait() == 0
    return time.perf_counter() - started


def outcome(path: Path, old: bytes) -> str:
    if path.read_bytes() == old:
        return "old intact"
    with open_recording(path) as reader:
        frames = sum(1 for _ in reader)
        clean = reader.integrity.clean
    assert clean, "the recording at the path is not complete"
    assert frames == NEW_FRAMES
    assert reader.header.metadata["scenario"] == "new"
    return "new complete"


def leftover(left: Path) -> str:
    """A killed writer's temporary file: refused before its header is whole (the kill came
    as it was created), else every frame it wrote, in order, and complete only with all."""
    try:
        with open_recording(left, on_corrupt="skip") as reader:
            frames = list(reader)
            integrity = reader.integrity
    except RecordingError:
        return "leftover refused: no whole header"
    assert integrity.ok
    if integrity.complete:  # every frame can be there with the trailer torn: not complete
        assert len(frames) == NEW_FRAMES
    assert [frame.index for frame in frames] == list(range(len(frames)))
    return "leftover complete" if integrity.complete else "leftover marked incomplete"


def test_a_killed_writer_leaves_the_old_recording_or_the_new_one_whole(tmp_path: Path) -> None:
    rng = random.Random(12)
    span = writing_time(tmp_path)
    path = tmp_path / "r.trec"
    seen: dict[str, int] = {}
    for _ in range(KILLS):
        # given an old recording, and a process writing a new one in its place
        old = write_old(path)
        compress, buffer_bytes = rng.random() < 0.5, rng.choice([0, 0, 4096, 256 << 10])
        process = start_writer(path, compress, buffer_bytes)

        # when it is killed at a random moment
        time.sleep(rng.uniform(0, span * 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.stdout is not None
        process.stdout.close()

        # then the path holds one of the two whole recordings, and any leftover (a kill
        # before the rename) keeps every frame it wrote and says it is incomplete, unless
        # the kill came after its trailer, between fsync and rename
        result = outcome(path, old)
        seen[result] = seen.get(result, 0) + 1
        for left in tmp_path.glob(".r.trec.*.incomplete"):
            assert result == "old intact"
            kind = leftover(left)
            seen[kind] = seen.get(kind, 0) + 1
            left.unlink()
    print(f"\n{KILLS} kills: {seen}")
    assert seen.get("old intact", 0) + seen.get("new complete", 0) == KILLS
