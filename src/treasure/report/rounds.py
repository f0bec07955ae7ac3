"""The table of a comparison's interleaved rounds: each backend's median time per message
over the rounds, its speed-up as the median of the per-round ratios with the 95 % interval,
and its instructions per message where the machine counts them."""

from __future__ import annotations

import statistics

from treasure.interleaved import BackendRounds, InterleavedRounds, RoundRatio
from treasure.report.tables import EMPTY, ReportTable, _columns
from treasure.report.units import format_ns, format_ratio, format_ratio_range

NOT_AVAILABLE = "n/a"


def _time(backend: BackendRounds) -> str:
    return format_ns(statistics.median(backend.medians_ns)) if backend.medians_ns else EMPTY


def _ratio_cells(ratio: RoundRatio | None, is_baseline: bool) -> list[str]:
    if is_baseline:
        return ["1.00×", EMPTY]
    if ratio is None or ratio.median is None:
        return [EMPTY, EMPTY]
    if ratio.low is None or ratio.high is None:
        return [format_ratio(ratio.median), EMPTY]
    return [format_ratio(ratio.median), format_ratio_range(ratio.low, ratio.high)]


def _instructions(backend: BackendRounds) -> str:
    count = backend.instructions
    if count is None or count.per_message is None:
        return NOT_AVAILABLE
    return f"{count.per_message:,.0f}"


def rounds_table(rounds: InterleavedRounds) -> ReportTable:
    by_name = {ratio.backend: ratio for ratio in rounds.ratios}
    rows, notes = [], []
    for backend in rounds.backends:
        name = backend.backend
        ratio = by_name.get(name)
        cells = _ratio_cells(ratio, name == rounds.baseline)
        rows.append((name, _time(backend), *cells, _instructions(backend)))
        if ratio is not None and ratio.note:
            notes.append(f"{name}: {ratio.note}")
    reasons = {
        b.instructions.reason for b in rounds.backends if b.instructions and b.instructions.reason
    }
    notes += [f"instructions per message {reason}" for reason in sorted(reasons)]
    notes += [f"{name}: rounds stopped: {why}" for name, why in sorted(rounds.failed.items())]
    return ReportTable(
        "rounds",
        f"interleaved: {rounds.rounds} rounds over {rounds.messages_per_backend:,} messages, "
        f"rotating order; speed-up against {rounds.baseline}: median of the per-round ratios, "
        "95 % order-statistic interval",
        _columns("backend", "median/msg", "speed-up", "95 % CI", "instr./msg"),
        tuple(rows),
        tuple(notes),
    )
