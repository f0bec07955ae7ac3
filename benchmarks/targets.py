"""`make bench`, live targets: how fast the senders send, and what the hop to a service costs.

    python benchmarks/targets.py RECORDING [--seconds S] [--rates N,N] [--python-rates N,N]
        [--no-hop] [--hop-messages N] [--rounds R]

1. Sender: the recording at rate:N/s to a Unix-socket target that costs little per message
   (the Go reference router, else the native Rust server, else `treasure serve rust-serde`):
   messages/s reached and the schedule error (actual - intended send time), native sender
   and pure-Python sender.
2. The hop: rust-serde and pyyaml-dom in process, behind `treasure serve` on a Unix socket
   and on TCP, one message in flight (`--pace max`): µs per message and the ratios,
   one round by default (`--rounds R`: interleaved rounds, medians), as `treasure compare
   --transport inproc,unix,tcp` runs; and rust-serde in the native server (rust/serve), no
   Python on the server side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from treasure.errors import TargetError
from treasure.parsers import available_names
from treasure.results import CompareResult, ReplayConfig, TargetFigures
from treasure.runner.compare import run_compare
from treasure.runner.replay import run_replay
from treasure.targets.native import native_sender_path, native_server_path
from treasure.targets.run import TargetRun, run_target

ROOT = Path(__file__).resolve().parents[1]
RATES = (20_000, 50_000, 100_000, 200_000)
PYTHON_RATES = (5_000, 20_000)
HOP_BACKENDS = ("rust-serde", "pyyaml-dom")
NATIVE_LABEL = "rust-serde@native-unix"
TRANSPORTS = ("inproc", "unix", "tcp")


def fast_target(scratch: Path) -> tuple[str, str]:
    """The cheapest Unix-socket router here, so the figure is the sender's: (description,
    command with {sock}). The Go router's line reader costs ~5 µs of CPU a message when
    the sender batches (rust/loadgen/README.md); rust-serde ~20 µs, which on two shared
    cores caps what any sender can get answered."""
    go = shutil.which("go")
    if go:
        binary = scratch / "go-router"
        subprocess.run(
            [go, "build", "-o", str(binary), "."], cwd=ROOT / "examples" / "go-router", check=True
        )
        return "Go reference router", f"{binary} -unix {{sock}}"
    native = native_server_path()
    if native is not None:
        return "native Rust server (rust-serde)", f"{native} --backend rust-serde --unix {{sock}}"
    serve = f"{sys.executable} -m treasure.cli serve rust-serde --unix {{sock}}"
    return "treasure serve rust-serde", serve


def sender_table(
    recording: Path, seconds: float, rates: list[int], python_rates: list[int], scratch: Path
) -> Table:
    described, command = fast_target(scratch)
    table = Table(
        title=f"open-model sender to a Unix-socket target ({described}), {seconds:g} s each"
    )
    for header in ("sender", "rate asked", "sent/s reached", "answered", "send error p50",
                   "p99", "max", "late > 1 ms", "of which behind a full socket",
                   "corrected p99"):  # fmt: skip
        table.add_column(header, justify="left" if header == "sender" else "right")
    plans = [("native", rate) for rate in rates] if native_sender_path() else []
    realtime = "-"
    plans += [("python", rate) for rate in python_rates]
    ended: list[str] = []  # runs that ended on a failure: what their row measured is partial
    for sender, rate in plans:
        sock = scratch / f"{sender}-{rate}.sock"
        try:
            figures = run_target(
                TargetRun(
                    recording=recording,
                    target=f"unix:{sock}",
                    pace=f"steps:{rate}/s:{seconds}s",
                    connections=2,
                    spawn=command.format(sock=sock),
                    sender=sender,  # type: ignore[arg-type]
                    artefact_dir=scratch,
                )
            )
        except TargetError as exc:
            table.add_row(sender, f"{rate:,}/s", *(["not measured"] + ["-"] * 7))
            ended.append(f"{sender} at {rate:,}/s: {exc}")
            continue
        if figures.failure:
            ended.append(f"{sender} at {rate:,}/s: {figures.failure}")
        error, corrected = figures.schedule_error, figures.latency_corrected
        if sender == "native" and figures.timeline is not None:
            realtime = "yes" if figures.timeline.realtime_sender else "no (not permitted)"
        table.add_row(
            sender,
            f"{rate:,}/s",
            f"{figures.sent_per_s:,.0f}",
            f"{figures.answered:,} / {figures.scheduled:,}",
            f"{error.p50 / 1e3:,.0f} µs" if error else "-",
            f"{error.p99 / 1e3:,.0f} µs" if error else "-",
            f"{error.max / 1e3:,.0f} µs" if error else "-",
            f"{figures.late_sends:,}",
            _behind_full_socket(figures),
            f"{corrected.p99 / 1e3:,.0f} µs" if corrected else "-",
        )
    table.caption = (
        f"send error: actual - intended send time (the schedule's own accuracy); load average "
        f"{os.getloadavg()[0]:.1f} at the end; native sender threads real-time: {realtime}"
        + "".join(f"\nended early, {line}" for line in ended)
    )
    return table


def _behind_full_socket(figures: TargetFigures) -> str:
    """Late sends that waited for the target to read (the native sender tells them apart)."""
    behind = figures.timeline.late_behind_full_socket if figures.timeline else None
    return "-" if behind is None else f"{behind:,}"


def hop_rounds(recording: Path, messages: int, rounds: int, scratch: Path) -> list[CompareResult]:
    """Each round: the comparison, then rust-serde in the native server (no Python)."""
    backends = [name for name in HOP_BACKENDS if name in available_names()]
    template = ReplayConfig(
        backend="",
        recording=str(recording),
        limit=messages,
        warmup=200,
        transport=",".join(TRANSPORTS),
    )
    results = []
    server = native_server_path()
    for i in range(rounds):
        result = run_compare(template, backends, artefact_dir=scratch / f"hop-{i}")
        if server is not None:
            sock = scratch / f"native-{i}.sock"
            config = ReplayConfig(
                backend="rust-serde",
                recording=str(recording),
                limit=messages,
                target=f"unix:{sock}",
                spawn=f"{server} --backend rust-serde --unix {sock}",
            )
            run = run_replay(config, artefact_dir=scratch / f"native-{i}")
            run.backend = NATIVE_LABEL
            result.runs.append(run)
        results.append(result)
    return results


def hop_table(results: list[CompareResult]) -> Table:
    p50_us: dict[str, list[float]] = {}
    for result in results:
        for run in result.runs:
            assert run.latency is not None
            p50_us.setdefault(run.backend, []).append(run.latency.uncorrected.p50 / 1000)
    runs = "one run" if len(results) == 1 else f"median of {len(results)} interleaved rounds"
    table = Table(title=f"the hop: µs per message, one in flight, {runs}")
    for header in ("backend", "in process", "unix", "tcp", "unix ÷ inproc", "tcp ÷ inproc",
                   "unix hop", "tcp hop"):  # fmt: skip
        table.add_column(header, justify="left" if header == "backend" else "right")
    rows = [(backend, (backend, f"{backend}@unix", f"{backend}@tcp")) for backend in HOP_BACKENDS]
    rows.append(("rust-serde, native server", ("rust-serde", NATIVE_LABEL, "")))
    for name, labels in rows:
        inproc, unix, tcp = (statistics.median(p50_us.get(label, [0.0])) for label in labels)
        if not inproc or not unix:
            continue
        table.add_row(
            name,
            f"{inproc:,.1f}",
            f"{unix:,.1f}",
            f"{tcp:,.1f}" if tcp else "-",
            f"{unix / inproc:,.1f}×",
            f"{tcp / inproc:,.1f}×" if tcp else "-",
            f"{unix - inproc:,.1f}",
            f"{tcp - inproc:,.1f}" if tcp else "-",
        )
    table.caption = (
        "in process: the backend call alone; unix/tcp: a Python client's round trip to "
        "`treasure serve` (framing, two socket hops, the server's Python loop, the backend); "
        "native server: the same round trip to rust/serve, no Python in the server"
    )
    return table


def _rates(text: str) -> list[int]:
    return [int(rate) for rate in text.split(",") if rate]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("recording", type=Path)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--hop-messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rates", default=",".join(map(str, RATES)), help="native sender, msg/s")
    parser.add_argument("--python-rates", default=",".join(map(str, PYTHON_RATES)))
    parser.add_argument("--no-hop", action="store_true", help="the sender table only")
    args = parser.parse_args()
    console = Console(width=160)
    with tempfile.TemporaryDirectory(prefix="treasure-bench-") as scratch:
        rates, python_rates = _rates(args.rates), _rates(args.python_rates)
        senders = sender_table(args.recording, args.seconds, rates, python_rates, Path(scratch))
        console.print(senders)
        if args.no_hop:
            return
        rounds = hop_rounds(args.recording, args.hop_messages, args.rounds, Path(scratch))
        console.print(hop_table(rounds))
        for result in rounds:
            for name, why in result.failed.items():
                console.print(f"{name} failed: {why}")


if __name__ == "__main__":
    main()
