"""rust-scan against the routers a user could pick instead, side by side in one run:

    python benchmarks/scanner.py RECORDING [--limit N] [--rounds R]

Prints µs/msg for pyyaml-dom, rapidyaml, rust-scan and rust-serde, measured in interleaved
rounds (A B C D A B C D ...) over the same payloads, the median and spread of each ratio to
rust-scan, rust-scan's fallbacks per 1k messages, and callgrind's instructions per message
when valgrind and cargo are present. rapidyaml (`pip install rapidyaml`, the `contenders`
extra) parses into a fresh tree and looks the three fields up at the root.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from treasure.parsers import Limits, ParseError, create
from treasure.recordings import open_recording

ROOT = Path(__file__).resolve().parents[1]
FIELDS = (b"event_type", b"player_id", b"session_id")
Route = Callable[[bytes], Any]


def rapidyaml_router() -> Route | None:
    try:
        import ryml  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None

    def route(payload: bytes) -> tuple[bytes, ...]:
        # a fresh tree each time: parsing into a used one appends to its root, so the
        # first message's fields would be found forever and the tree would keep growing
        tree = ryml.Tree()
        ryml.parse_in_arena(payload, tree=tree)
        root = tree.root_id()
        return tuple(bytes(tree.val(tree.find_child(root, f))) for f in FIELDS)

    return route


def routers() -> dict[str, Route]:
    found: dict[str, Route] = {"pyyaml-dom": create("pyyaml-dom", Limits()).route}
    rapid = rapidyaml_router()
    if rapid is not None:
        found["rapidyaml"] = rapid
    for name in ("rust-scan", "rust-serde"):
        found[name] = create(name, Limits()).route
    return found


def per_message_us(route: Route, payloads: Sequence[bytes]) -> float:
    failed = 0  # counted, not suppressed: the loop costs the same for every backend
    start = time.perf_counter_ns()
    for payload in payloads:
        try:
            route(payload)
        except ParseError:
            failed += 1
    return (time.perf_counter_ns() - start) / len(payloads) / 1000


def rounds(
    found: dict[str, Route], payloads: Sequence[bytes], count: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in found}
    for route in found.values():  # warm-up: caches, lazy imports
        per_message_us(route, payloads[:200])
    for _ in range(count):
        for name, route in found.items():
            times[name].append(per_message_us(route, payloads))
    return times


def fallbacks_per_1k(payloads: Sequence[bytes], name: str = "rust-scan") -> float:
    """Messages a router with a fast path handed to its full parser, per 1,000."""
    backend = create(name, Limits())
    for payload in payloads:
        with contextlib.suppress(ParseError):
            backend.route(payload)
    return 1000 * int(backend.fallbacks) / len(payloads)  # type: ignore[attr-defined]


def callgrind_total(binary: Path, calls: int, payload_file: Path, backend: str) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            str(binary),
            str(calls),
            str(payload_file),
            backend,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output: {done.stderr[-300:]}")
    return int(match.group(1))


def instructions_per_message(payloads: Sequence[bytes], calls: int) -> dict[str, float] | None:
    if shutil.which("valgrind") is None or shutil.which("cargo") is None:
        return None
    manifest = ROOT / "rust" / "Cargo.toml"
    subprocess.run(
        [
            "cargo",
            "build",
            "--quiet",
            "--release",
            "--example",
            "scan_cost",
            "--manifest-path",
            str(manifest),
        ],
        check=True,
    )
    binary = ROOT / "rust" / "target" / "release" / "examples" / "scan_cost"
    with tempfile.TemporaryDirectory() as tmp:
        payload_file = Path(tmp) / "payloads.bin"
        payload_file.write_bytes(b"\0".join(payloads))
        return {
            backend: (
                callgrind_total(binary, calls, payload_file, backend)
                - callgrind_total(binary, 1, payload_file, backend)
            )
            / (calls - 1)
            for backend in ("rust-scan", "rust-events")
        }


def report(times: dict[str, list[float]], peaks: dict[str, str] | None = None) -> None:
    """A row a backend: its median µs/msg and range over the rounds, its peak heap per
    message when given, and the median and range of its per-round time ÷ rust-scan's."""
    heading = f"{'backend':<14} {'µs/msg':>8} {'min-max':>15}"
    if peaks is not None:
        heading += f" {'peak heap/msg':>14}"
    print(f"{heading}   its time ÷ rust-scan's: median (range)")
    scan = times["rust-scan"]
    for name, values in times.items():
        ratios = [v / s for v, s in zip(values, scan, strict=True)]
        spread = f"{min(values):.2f}-{max(values):.2f}"
        row = f"{name:<14} {statistics.median(values):>8.2f} {spread:>15}"
        if peaks is not None:
            row += f" {peaks.get(name, '-'):>14}"
        ratio = f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{row}   {ratio}")


def report_instructions(counts: dict[str, float] | None) -> None:
    if counts is None:
        print("instructions/msg: not measured (no valgrind or cargo: scripts/install-valgrind.sh)")
    for backend, count in (counts or {}).items():
        print(f"instructions/msg (callgrind) {backend}: {count:,.0f}")


def arguments(description: str, *, limit: int, rounds: int, calls: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("recording", type=Path)
    parser.add_argument("--limit", type=int, default=limit)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--calls", type=int, default=calls, help="messages under callgrind")
    return parser.parse_args()


def first_payloads(recording: Path, limit: int) -> list[bytes]:
    with open_recording(recording) as frames:
        return [frame.payload for _, frame in zip(range(limit), frames, strict=False)]


def main() -> None:
    args = arguments(__doc__.splitlines()[0], limit=5000, rounds=7, calls=2000)
    payloads = first_payloads(args.recording, args.limit)
    found = routers()
    if "rapidyaml" not in found:
        print("rapidyaml is not installed (pip install rapidyaml): its column is left out")
    print(f"{len(payloads)} messages from {args.recording}, {args.rounds} interleaved rounds")
    report(rounds(found, payloads, args.rounds))
    print(f"rust-scan fallbacks: {fallbacks_per_1k(payloads):.1f} per 1k messages")
    report_instructions(instructions_per_message(payloads, min(args.calls, len(payloads))))


if __name__ == "__main__":
    main()
