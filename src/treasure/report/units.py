"""How figures are written for people: 12.3 µs, 101.2 KiB, 12.3×.

Sizes and times have one source, `treasure.quantities.format_quantity`, which the gate's
verdicts use too: the same figure reads the same in a table, an HTML report and a CI log.
"""

from __future__ import annotations

from treasure.quantities import TIMES_SIGN, Unit, format_quantity

DASH = "\u2013"  # joins the ends of an interval


def format_bytes(value: float | None) -> str:
    return "-" if value is None else format_quantity(value, Unit.BYTES)


def format_ns(value: float | None) -> str:
    return "-" if value is None else format_quantity(value, Unit.NANOSECONDS)


def format_ratio(value: float | None) -> str:
    """Three significant figures at most: 0.83×, 12.3×, 8192×."""
    if value is None:
        return "-"
    return _ratio_number(value) + TIMES_SIGN


def _ratio_number(value: float) -> str:
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def format_ratio_range(low: float, high: float) -> str:
    """`11.8 to 12.9×` joined by an en dash: an interval of a ratio."""
    return f"{_ratio_number(low)}{DASH}{_ratio_number(high)}{TIMES_SIGN}"


def format_ns_range(low: float, high: float) -> str:
    """`168.1 to 172.5 µs` joined by an en dash; the unit is written once when both ends
    share it."""
    first, last = format_ns(low), format_ns(high)
    first_number, _, first_unit = first.partition(" ")
    last_number, _, last_unit = last.partition(" ")
    if first_unit == last_unit:
        return f"{first_number}{DASH}{last_number} {last_unit}"
    return f"{first}{DASH}{last}"


def format_share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.01 or value == 0 else f"{value:.1%}"
