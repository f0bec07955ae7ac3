"""The open model's schedule: when each message is meant to be sent, fixed before the run.

`rate:N/s` sends at a constant rate; `original[:K]` keeps the recording's gaps (K times
faster); `ramp:A..B/s:Ds` moves the rate linearly from A to B over D seconds;
`steps:A/s:Ds,B/s:Es,...` holds each rate for its duration. Ramps and steps are as long as
their durations say: the recording's payloads are sent in order, from the start again when
the schedule needs more than the recording holds. Sending never waits for a reply.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence

from treasure.errors import TreasureError

MAX_SCHEDULED = 20_000_000  # a bound on any schedule: 400 s at 50k/s
_NUMBER = r"(\d+(?:\.\d+)?)"
_RATE = re.compile(rf"^rate:{_NUMBER}(?:/s)?$")
_ORIGINAL = re.compile(rf"^original(?::{_NUMBER})?$")
_RAMP = re.compile(rf"^ramp:{_NUMBER}\.\.{_NUMBER}(?:/s)?:{_NUMBER}s$")
_STEP = re.compile(rf"^{_NUMBER}(?:/s)?:{_NUMBER}s$")
PACES = "rate:N/s, original, original:K, ramp:A..B/s:Ds or steps:A/s:Ds,B/s:Es,..."


def open_schedule(pace: str, timestamps_ns: Sequence[int], limit: int | None) -> array[int]:
    """Intended send offsets (ns from the start), one per message to send."""
    if match := _RATE.match(pace):
        rate = _positive(float(match.group(1)), pace)
        count = _bounded(limit if limit is not None else len(timestamps_ns), pace)
        return array("q", (int(i * 1e9 / rate) for i in range(count)))
    if match := _ORIGINAL.match(pace):
        speedup = _positive(float(match.group(1) or 1.0), pace)
        chosen = timestamps_ns[: limit if limit is not None else len(timestamps_ns)]
        first = chosen[0] if chosen else 0
        return array("q", (max(0, int((ts - first) / speedup)) for ts in chosen))
    if match := _RAMP.match(pace):
        start, end, seconds = (float(group) for group in match.groups())
        return _capped(_ramp(start, end, _positive(seconds, pace)), limit, pace)
    if pace.startswith("steps:"):
        return _capped(_steps(pace), limit, pace)
    raise TreasureError(f"unknown pace {pace!r} for a target (use {PACES})")


def _positive(value: float, pace: str) -> float:
    if value <= 0:
        raise TreasureError(f"pace {pace!r}: rates and durations must be positive")
    return value


def _bounded(count: int, pace: str) -> int:
    if count > MAX_SCHEDULED:
        raise TreasureError(f"pace {pace!r}: {count} messages is over {MAX_SCHEDULED}")
    return count


def _capped(offsets: list[int], limit: int | None, pace: str) -> array[int]:
    return array("q", offsets[: _bounded(len(offsets), pace) if limit is None else limit])


def _ramp(start: float, end: float, seconds: float) -> list[int]:
    """Message i goes when the ramp's integral A·t + (B-A)·t²/2D reaches i."""
    total = (start + end) / 2 * seconds
    _bounded(int(total), "ramp")
    slope = (end - start) / seconds
    offsets = []
    for i in range(int(total)):
        if abs(slope) < 1e-12:
            t = i / start
        else:  # the positive root of slope/2·t² + start·t - i = 0
            t = (-start + math.sqrt(start * start + 2 * slope * i)) / slope
        offsets.append(int(t * 1e9))
    return offsets


def _steps(pace: str) -> list[int]:
    offsets: list[int] = []
    begin = 0.0
    for item in pace.removeprefix("steps:").split(","):
        match = _STEP.match(item.strip())
        if not match:
            raise TreasureError(f"pace {pace!r}: each step is RATE/s:SECONDSs, not {item!r}")
        rate, seconds = (_positive(float(group), pace) for group in match.groups())
        count = int(rate * seconds)
        _bounded(len(offsets) + count, pace)
        offsets.extend(round((begin + i / rate) * 1e9) for i in range(count))
        begin += seconds
    return offsets
