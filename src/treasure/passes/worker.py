"""One measurement pass in a fresh process: `python -m treasure.passes.worker --pass timing ...`.

A pass runs alone in its process so that a tracer's overhead never leaks into a latency
figure and one backend's heap never leaks into another's. Progress goes to stdout as
`progress DONE TOTAL` lines; the pass's figures go to the --out file; a user error is one
line on stderr with its exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from treasure.errors import TreasureError
from treasure.recordings import count_frames
from treasure.results import ReplayConfig


def _progress(total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        print(f"progress {done} {total}", flush=True)

    return report


def _total(config: ReplayConfig) -> int:
    frames = max(0, count_frames(Path(config.recording)) - config.warmup)
    return min(frames, config.limit) if config.limit is not None else frames


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m treasure.passes.worker")
    parser.add_argument("--pass", dest="pass_name", choices=["timing", "heap"], required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--artefact-dir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    config = msgspec.json.decode(args.config.read_bytes(), type=ReplayConfig)
    total = _total(config)
    if args.pass_name == "timing":
        from treasure.passes.timing import run_timing_pass

        figures: object = run_timing_pass(config, progress=_progress(total))
    else:
        from treasure.passes.heap import run_heap_pass
        from treasure.recordings import open_recording

        args.artefact_dir.mkdir(parents=True, exist_ok=True)
        if config.keep == "nothing":
            # No per-user state to build up: every message outside the traced sample
            # would cost the tracer's full price for no figure, so trace a prefix.
            total = min(total, config.heap_messages)
        with open_recording(Path(config.recording), on_corrupt="skip") as reader:
            figures = run_heap_pass(
                config,
                reader,
                messages=config.heap_messages,
                artefact_dir=args.artefact_dir,
                total_frames=total,
            )
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(msgspec.json.encode(figures))
    tmp.replace(args.out)
    return 0


def main() -> None:
    try:
        sys.exit(run(sys.argv[1:]))
    except TreasureError as exc:
        print(f"treasure worker: {exc}", file=sys.stderr)
        sys.exit(int(exc.exit_code))


if __name__ == "__main__":
    main()
