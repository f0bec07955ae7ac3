"""What the heap pass costs against the timing pass, with the tracer's profile function on
(TREASURE_UNWATCHED=0, how the pass ran before) and off around traced handlers (now), and
what each reports per message.

    .venv/bin/python benchmarks/truth.py runs/blowup-12k.trec [--backends a,b] [--limit N]

Each pass runs as `treasure replay` does it, in its own fresh process; the figures are
read from the result file, the seconds from the result's own pass clocks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_BACKENDS = "pyyaml-dom,pyyaml-stream"


def replay(recording: str, backend: str, limit: int, unwatched: bool, out: Path) -> Any:
    command = [sys.executable, "-m", "treasure.cli", "replay", recording, "-b", backend]
    command += ["--limit", str(limit), "--heap", "--heap-messages", str(limit)]
    command += ["-o", str(out), "--json"]
    env = {**os.environ, "TREASURE_UNWATCHED": "1" if unwatched else "0"}
    subprocess.run(command, check=True, capture_output=True, env=env)
    return json.loads(out.read_text())


def row(backend: str, mode: str, result: Any) -> str:
    heap = result["heap"]
    timing_s = result["duration_ns"] / 1e9
    tracked_s = heap["tracked_seconds"]
    return (
        f"{backend:<16} {mode:<10} {timing_s:>9.3f} {tracked_s:>10.3f} {heap['pass_seconds']:>9.3f}"
        f" {tracked_s / timing_s:>8.1f}× {heap['allocated_bytes']['p50']:>12,.0f}"
        f" {heap['peak_bytes']['p50']:>10,.0f} {heap['allocations']['p50']:>7,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS)
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    print(
        f"{'backend':<16} {'handlers':<10} {'timing s':>9} {'tracked s':>10} {'heap s':>9}"
        f" {'heap/time':>9} {'alloc p50 B':>12} {'peak p50 B':>10} {'allocs':>7}"
    )
    with tempfile.TemporaryDirectory(prefix="treasure-truth-") as folder:
        for backend in args.backends.split(","):
            for unwatched, mode in ((False, "watched"), (True, "unwatched")):
                out = Path(folder) / f"{backend}-{mode}.json"
                result = replay(args.recording, backend, args.limit, unwatched, out)
                print(row(backend, mode, result))


if __name__ == "__main__":
    main()
