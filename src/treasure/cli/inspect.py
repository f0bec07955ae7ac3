"""`treasure inspect`: what a recording holds, and whether it is intact."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from treasure.cli._options import console, existing_file, json_option
from treasure.errors import RecordingError
from treasure.recording_stats import RecordingStats, scan


def _table(stats: RecordingStats) -> Table:
    table = Table(title=f"recording {stats.path}", show_header=False)
    table.add_column("field")
    table.add_column("value", justify="right")
    meta = stats.metadata
    rows = [
        ("format", f"version {stats.version}" + (", zstd" if stats.compressed else "")),
        ("created", stats.created_at),
        ("scenario", str(meta.get("scenario") or "-")),
        ("users (header)", f"{meta.get('users', 0):,}"),
        ("frames", f"{stats.frames:,}"),
        ("payload bytes", f"{stats.payload_bytes:,}"),
        ("file bytes", f"{stats.file_bytes:,}"),
        ("duration", f"{stats.duration_ns / 1e9:,.3f} s"),
        ("rate", f"{stats.rate_per_s:,.1f} msg/s"),
        (
            "payload p50 / p90 / p99 / max",
            f"{stats.payload_p50:,} / {stats.payload_p90:,} / {stats.payload_p99:,} / "
            f"{stats.payload_max:,} B",
        ),
        ("distinct users", f"{stats.distinct_users:,}"),
        ("integrity", _integrity_line(stats)),
    ]
    for field, value in rows:
        table.add_row(field, value)
    return table


def _integrity_line(stats: RecordingStats) -> str:
    integrity = stats.integrity
    parts = [f"{integrity.frames_ok:,} frames ok"]
    if integrity.corrupt_frames:
        listed = ", ".join(str(i) for i in integrity.corrupt_frames[:5])
        more = "" if len(integrity.corrupt_frames) <= 5 else ", ..."
        parts.append(f"{len(integrity.corrupt_frames)} corrupt (frames {listed}{more})")
    if integrity.unreadable_from is not None:
        parts.append(f"unreadable from byte {integrity.unreadable_from:,}")
    if integrity.torn_tail:
        parts.append(f"torn tail at byte {integrity.torn_offset:,}")
    elif integrity.ok and not integrity.complete:
        parts.append("incomplete: no trailer")
    return ", ".join(parts)


@click.command(name="inspect")
@click.argument("recording", type=existing_file())
@json_option
def command(recording: Path, as_json: bool) -> None:
    """Show what RECORDING holds: frames, bytes, duration, payload size distribution,
    distinct users, rate and an integrity check of every frame's checksum.

    A corrupt or incomplete recording (its writer was killed: a torn frame, or no
    trailer) prints what was readable, then fails with one line (exit 3).

    \b
    Examples:
      treasure inspect recordings/smoke.trec
      treasure inspect runs/capture.trec --json | jq .payload_size
    """
    stats = scan(recording)
    if as_json:
        click.echo(json.dumps(stats.to_dict(), indent=2))
    else:
        console().print(_table(stats))
    integrity = stats.integrity
    if integrity.ok and not integrity.complete:
        why = integrity.stop_reason().removeprefix("recording ").removeprefix("is incomplete: ")
        raise RecordingError(
            f"{recording}: incomplete: {why}; "
            f"the {integrity.frames_ok:,} frames before it are intact"
        )
    if not integrity.ok:
        first = integrity.problems[0] if integrity.problems else f"{recording}: corrupt"
        extra = len(integrity.corrupt_frames) - 1
        raise RecordingError(first + (f" (and {extra} more damaged frames)" if extra > 0 else ""))
