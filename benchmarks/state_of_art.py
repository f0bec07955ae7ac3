"""Every figure of the state-of-the-art comparison in one run (`make bench` calls it):

    .venv/bin/python benchmarks/state_of_art.py runs/blowup-12k.trec [--limit N] [--rounds R]

- µs/msg of pyyaml-dom, rapidyaml, rust-scan and rust-serde (and rapidyaml bare: its parse
  and three look-ups with none of the backend's checks), in interleaved rounds over the
  same payloads (benchmarks/scanner.py's rounds), the same payloads as JSON through
  msgspec-json, and each backend's peak heap per message (p50, a memray heap pass);
- rust-scan's ratio to each backend: the median of the per-round ratios, with their range;
- rust-scan's and rapidyaml's fallbacks per 1k messages; callgrind's instructions per message;
- the harness: a no-op backend through the timing pass (whole loop per message, the part of
  it outside the timing window, and inside the window); recording read speed, uncompressed
  and zstd, as Frame objects and through the native runs the timing loop reads;
- the heap pass's cost with the tracer's profile function on and off (benchmarks/truth.py).

Each figure is measured here, in this run; one that could not be (no valgrind, a backend
not installed) is printed as not measured, with why.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import scanner, truth  # noqa: E402
from benchmarks.run import NOOP  # noqa: E402

import treasure  # noqa: E402
from treasure.errors import BackendError  # noqa: E402
from treasure.parsers import Limits, create  # noqa: E402
from treasure.recordings import NATIVE_DECODE, open_recording  # noqa: E402

BACKENDS = ("pyyaml-dom", "rapidyaml", "pyrs-yaml", "libfyaml", "rust-scan", "rust-serde")
JSON_BACKENDS = ("msgspec-json", "rust-scan", "pyyaml-dom")
HEAP_MESSAGES = 300
BARE = "rapidyaml-bare"  # parse into a fresh tree, three find_child calls, no check at all


def routers(names: Sequence[str]) -> dict[str, scanner.Route]:
    found: dict[str, scanner.Route] = {}
    for name in names:
        try:
            found[name] = create(name, Limits()).route
        except BackendError as exc:
            print(f"{name}: not measured ({exc})")
    return found


def peak_heap(recording: Path, name: str) -> str:
    """p50 of the peak heap per message, from a heap pass over the first messages."""
    try:
        run = treasure.replay(
            recording, name, limit=HEAP_MESSAGES, warmup=50, heap=True, heap_messages=HEAP_MESSAGES
        )
    except Exception as exc:  # a failed pass is reported beside the others, not fatal
        return f"failed: {exc}"[:40]
    heap = run.heap
    if heap is None or not heap.measurable or heap.peak_bytes is None:
        return "not measurable"
    return f"{heap.peak_bytes.p50:,.0f} B"


def json_recording(payloads: Sequence[bytes], folder: Path) -> Path:
    """The same messages as JSON text, through the JSON Lines importer."""
    import yaml

    lines = folder / "messages.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        for payload in payloads:
            document = yaml.safe_load(payload)
            out.write(json.dumps({"payload": json.dumps(document, default=str)}) + "\n")
    recording = folder / "messages-json.trec"
    command = [sys.executable, "-m", "treasure.cli", "import", str(lines), "-o", str(recording)]
    subprocess.run(command, check=True, capture_output=True)
    return recording


HARNESS_RUNS = 5


def read_frames(recording: Path) -> int:
    """Every frame as a `Frame` object: the reader's public iteration."""
    with open_recording(recording) as reader:
        frames = sum(1 for _ in reader)
        ok = reader.integrity.clean
    if not ok:
        raise SystemExit(f"{recording}: not clean")
    return frames


def read_runs(recording: Path) -> int:
    """Every frame through the path the timing loop reads: native runs, no object per frame."""
    frames = 0
    with open_recording(recording) as reader:
        for run in reader.runs():
            frames += 1 if isinstance(run, tuple) else run.take_all()
        ok = reader.integrity.clean
    if not ok:
        raise SystemExit(f"{recording}: not clean")
    return frames


def read_speed(recording: Path, read: Callable[[Path], int]) -> tuple[list[float], int]:
    """HARNESS_RUNS full reads, every check on (frame and whole-file checksums, sequence,
    trailer): the seconds of each, frames read."""
    seconds, frames = [], 0
    for _ in range(HARNESS_RUNS):
        start = time.perf_counter()
        frames = read(recording)
        seconds.append(time.perf_counter() - start)
    return sorted(seconds), frames


def harness(recording: Path, compressed: Path) -> None:
    """The no-op backend through the whole timing pass, HARNESS_RUNS times: the loop's wall
    time per message (the pass's duration covers the measured loop alone: frame reading,
    the handler call and the bookkeeping around it), and the part of it outside the timing
    window (the duration less the sum of the measured windows); then the recording read
    speeds, medians and ranges."""
    loops, outside, windows = [], [], []
    for _ in range(HARNESS_RUNS):
        noop = treasure.replay(recording, NOOP, limit=20_000, warmup=500)
        if noop.latency is None or not noop.messages:
            raise SystemExit(f"harness: the no-op pass measured nothing ({noop.stopped_early})")
        window = noop.latency.uncorrected
        loops.append(noop.duration_ns / noop.messages / 1e3)
        outside.append((noop.duration_ns - window.mean * window.count) / noop.messages / 1e3)
        windows.append(window.p50)
    print(
        f"harness (no-op backend, timing pass, {HARNESS_RUNS} runs): whole loop "
        f"{_spread(loops)} µs/msg, outside the timing window {_spread(outside)} µs/msg, "
        f"inside it p50 {statistics.median(windows):.0f} ns"
    )
    native = "native frame decoder" if NATIVE_DECODE is not None else "pure-Python reader"
    frames_bytes = recording.stat().st_size  # the same frames, uncompressed layout
    reads = (("Frame objects", read_frames), ("native runs", read_runs))
    for label, path in (("uncompressed", recording), ("zstd", compressed)):
        for way, read in reads:
            seconds, frames = read_speed(path, read)
            speeds = sorted(frames_bytes / second / 1e9 for second in seconds)
            per_frame = statistics.median(seconds) / frames * 1e6
            print(
                f"recording read, {label}, {way}: {_spread(speeds, 3)} GB/s of uncompressed "
                f"frames, {per_frame:.2f} µs/frame, every checksum verified ({native})"
            )


def _spread(values: list[float], digits: int = 2) -> str:
    """The median and the range of `values`."""
    ordered = sorted(values)
    middle = statistics.median(ordered)
    return f"{middle:.{digits}f} ({ordered[0]:.{digits}f}-{ordered[-1]:.{digits}f})"


def heap_pass_cost(recording: Path, repeats: int = 3) -> None:
    """The heap pass before (handlers watched, memray's Python reader of the capture) and
    after (profile function off around handlers, treasure-rs's reader), `repeats` times
    each: the medians with their range, the ratio of the medians, and each reader's
    analysis seconds per record."""
    print("heap pass cost, before (watched, memray's reader) and after (unwatched, native):")
    print(truth.HEADER)
    runs = (("before", False, "watched", "memray"), ("after", True, "unwatched", ""))
    passes: dict[str, list[float]] = {}
    per_record: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="treasure-sota-") as folder:
        for repeat in range(repeats):
            for label, unwatched, mode, reader in runs:
                out = Path(folder) / f"{mode}-{repeat}.json"
                result = truth.replay(str(recording), "pyyaml-dom", 1000, unwatched, out, reader)
                print(truth.row("pyyaml-dom", mode, result))
                heap = result["heap"]
                passes.setdefault(label, []).append(heap["pass_seconds"])
                records = max(1, heap["capture_records"])
                per_record.setdefault(label, []).append(heap["analysis_seconds"] / records * 1e6)
    for label in passes:
        seconds, micro = passes[label], per_record[label]
        print(
            f"{label}: heap pass {statistics.median(seconds):.3f} s"
            f" ({min(seconds):.3f}-{max(seconds):.3f}), analysis"
            f" {statistics.median(micro):.3f} µs/record ({min(micro):.3f}-{max(micro):.3f})"
        )
    ratio = statistics.median(passes["before"]) / statistics.median(passes["after"])
    print(f"heap pass before ÷ after: {ratio:.2f}× (medians of {repeats})")


def main() -> None:
    args = scanner.arguments(__doc__.splitlines()[0], limit=3000, rounds=5, calls=1000)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    payloads = scanner.first_payloads(args.recording, args.limit)
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"{len(payloads)} messages from {args.recording}, {args.rounds} interleaved rounds")
    print(f"load average {load} on {os.cpu_count()} cores: wall-clock figures scale with it")
    found = routers(BACKENDS)
    peaks = {name: peak_heap(args.recording, name) for name in found}
    bare = scanner.rapidyaml_router()
    if bare is not None:  # the floor a user calling rapidyaml gets, with none of the checks
        found[BARE] = bare
        peaks[BARE] = "-"
    scanner.report(scanner.rounds(found, payloads, args.rounds), peaks)
    with tempfile.TemporaryDirectory(prefix="treasure-sota-") as folder:
        as_json = json_recording(payloads, Path(folder))
        with open_recording(as_json) as frames:
            json_payloads = [frame.payload for frame in frames]
        print(f"the same {len(json_payloads)} messages as JSON:")
        json_peaks = {name: peak_heap(as_json, name) for name in JSON_BACKENDS}
        json_times = scanner.rounds(routers(JSON_BACKENDS), json_payloads, args.rounds)
        scanner.report(json_times, json_peaks)
        compressed = Path(folder) / "compressed.trec"
        command = [sys.executable, "-m", "treasure.cli", "generate", "blowup-12k", "--compress"]
        subprocess.run([*command, "-o", str(compressed)], check=True, capture_output=True)
        harness(args.recording, compressed)
    for name in ("rust-scan", "rapidyaml", "pyrs-yaml", "libfyaml"):
        if name in found:
            per_1k = scanner.fallbacks_per_1k(payloads, name)
            print(f"{name} fallbacks: {per_1k:.1f} per 1k messages")
    scanner.report_instructions(
        scanner.instructions_per_message(payloads, min(args.calls, len(payloads)))
    )
    heap_pass_cost(args.recording)


if __name__ == "__main__":
    main()
