"""The target's part of a replay's output: what was sent and answered, and the process."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from treasure.report.units import format_bytes, format_ns
from treasure.results import TargetFigures


def render_target(figures: TargetFigures, out: Console) -> None:
    table = Table(title=f"target {figures.target} ({figures.sender} sender, {figures.pace})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    errors = ", ".join(f"{k} {v}" for k, v in figures.errors.items()) or "none"
    rows = [
        (
            "scheduled / sent / answered",
            f"{figures.scheduled} / {figures.sent} / {figures.answered}",
        ),
        ("routed", str(figures.routed)),
        ("errors by category", errors),
        ("timed out / lost / unsent", f"{figures.timeouts} / {figures.lost} / {figures.unsent}"),
        ("refused connections", str(figures.refused_connections)),
        ("late sends", f"{figures.late_sends} (> {format_ns(figures.late_threshold_ns)})"),
        ("sent per second", f"{figures.sent_per_s:,.0f}"),
    ]
    if figures.schedule_error is not None:
        rows.append(("send error p99 (actual - intended)", format_ns(figures.schedule_error.p99)))
    rows += _sender_rows(figures)
    process = figures.process
    if process is not None:
        rows += [
            (
                "target RSS start / end / peak",
                " / ".join(
                    format_bytes(b)
                    for b in (
                        process.rss_start_bytes,
                        process.rss_end_bytes,
                        process.rss_peak_bytes,
                    )
                ),
            ),
            ("target RSS growth per request", format_bytes(process.rss_growth_per_request_bytes)),
            ("target CPU", f"{process.cpu_seconds:.2f} s ({process.cpu_share:.0%} of a core)"),
        ]
    for name, value in rows:
        table.add_row(name, value)
    if figures.failure:
        table.caption = f"ended early: {figures.failure}"
    out.print(table)


def _sender_rows(figures: TargetFigures) -> list[tuple[str, str]]:
    """The native sender's own account of its lateness (None from the Python sender)."""
    timeline = figures.timeline
    if timeline is None or timeline.late_behind_full_socket is None:
        return []
    realtime = "yes" if timeline.realtime_sender else "no (not permitted)"
    return [
        ("late sends behind the target's full socket", str(timeline.late_behind_full_socket)),
        ("sender threads real-time", realtime),
    ]
