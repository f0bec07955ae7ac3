"""Quantities written as people write them (`32 KiB`, `12 ms`, `250 µs`, `3%`, `200x`),
read into base units (bytes, nanoseconds, fractions) and written back."""

from __future__ import annotations

import math
import re
from enum import StrEnum


class Unit(StrEnum):
    BYTES = "bytes"
    NANOSECONDS = "ns"
    FRACTION = "fraction"  # written and shown as a percentage
    TIMES = "times"  # a ratio such as amplification, written `8192x` or `8192`
    COUNT = "count"


BYTE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
TIME_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_UNIT_WORDS = {
    Unit.BYTES: "B, KB, KiB, MB, MiB, GB, GiB",
    Unit.NANOSECONDS: "ns, us (µs), ms, s",
    Unit.FRACTION: "%",
    Unit.TIMES: "x, or a plain number",
    Unit.COUNT: "a plain number",
}
TIMES_SIGN = "\u00d7"
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*(\S*)\s*$")


def parse_quantity(text: str | float, unit: Unit) -> float:
    """`"32 KiB"` → 32768 for bytes, `"250 us"` → 250000 for ns, `"3%"` → 0.03. Raises
    ValueError naming the units accepted. A bare non-zero number is refused where a unit is
    needed: `latency_p99 = 12` says nothing about milliseconds."""
    if isinstance(text, bool):
        raise ValueError("expected a quantity, not true/false")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise ValueError("must be a finite number (a budget of inf or nan cannot fail)")
        if text < 0:
            raise ValueError("must not be negative")
        if text == 0 or unit in (Unit.TIMES, Unit.COUNT):
            return float(text)
        raise ValueError(f"needs a unit ({_UNIT_WORDS[unit]}), e.g. {example(unit)!r}")
    match = _QUANTITY.match(text)
    if match is None and text.strip().startswith("-"):
        raise ValueError("must not be negative")
    if match is None:
        raise ValueError(f"not a quantity (write e.g. {example(unit)!r})")
    number, suffix = float(match.group(1)), match.group(2)
    scale = _scale(suffix, unit)
    if scale is None:
        raise ValueError(f"unknown unit {suffix!r} (use {_UNIT_WORDS[unit]})")
    if scale == 0:
        raise ValueError(f"needs a unit ({_UNIT_WORDS[unit]}), e.g. {example(unit)!r}")
    value = number * scale if number else 0.0
    if not math.isfinite(value):
        raise ValueError("is too large to be a finite number (a budget that cannot fail)")
    return value


def _scale(suffix: str, unit: Unit) -> float | None:
    """The factor of a unit suffix; 0 when a unit is needed and missing; None when unknown."""
    lowered = suffix.lower()
    if unit is Unit.BYTES:
        return BYTE_UNITS.get(lowered, 0 if not suffix else None)
    if unit is Unit.NANOSECONDS:
        return TIME_UNITS.get(lowered, 0 if not suffix else None)
    if unit is Unit.FRACTION:
        return 0.01 if suffix == "%" else (0 if not suffix else None)
    if unit is Unit.TIMES:
        return 1.0 if lowered in ("", "x", TIMES_SIGN) else None
    return 1.0 if not suffix else None


def example(unit: Unit) -> str:
    return {
        Unit.BYTES: "32 KiB",
        Unit.NANOSECONDS: "12 ms",
        Unit.FRACTION: "0.1%",
        Unit.TIMES: "200x",
        Unit.COUNT: "5",
    }[unit]


def format_quantity(value: float, unit: Unit) -> str:
    """A figure as a person reads it: `64.0 KiB`, `12.3 ms`, `0.50%`, `8192x`."""
    if unit is Unit.BYTES:
        for name, size in (("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0)):
            if abs(value) >= size:
                return f"{value / size:.1f} {name}"
        return f"{value:.0f} B"
    if unit is Unit.NANOSECONDS:
        for name, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
            if abs(value) >= size:
                return f"{value / size:.1f} {name}"
        return f"{value:.0f} ns"
    if unit is Unit.FRACTION:
        return f"{value * 100:.2f}%"
    if unit is Unit.TIMES:
        return f"{value:.2f}{TIMES_SIGN}" if value < 100 else f"{value:.0f}{TIMES_SIGN}"
    return f"{value:g}"
