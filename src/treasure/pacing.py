"""Pacing: when each message is meant to be sent.

`max` sends back to back. `original` keeps the recording's own gaps, `original:K` plays
them K times faster. `rate:N/s` sends at a constant N messages per second. Latency under
a pace is measured from the intended send time as well (coordinated omission): a slow
message delays the ones behind it, and that delay is part of what a user waits.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from treasure.errors import TreasureError

_RATE = re.compile(r"^rate:(\d+(?:\.\d+)?)(?:/s)?$")
_ORIGINAL = re.compile(r"^original(?::(\d+(?:\.\d+)?))?$")
SPIN_NS = 1_000_000  # sleep until this close to the send time, then spin: sleep overshoots


@dataclass
class Pacer:
    """Intended send times on the perf_counter_ns clock; None for `max`."""

    mode: str
    speedup: float = 1.0
    rate: float = 0.0
    start_ns: int = 0
    first_timestamp_ns: int | None = None

    @classmethod
    def parse(cls, pace: str) -> Pacer:
        if pace == "max":
            return cls("max")
        if match := _ORIGINAL.match(pace):
            speedup = float(match.group(1) or 1.0)
            if speedup <= 0:
                raise TreasureError(f"pace {pace!r}: the speed-up must be positive")
            return cls("original", speedup=speedup)
        if match := _RATE.match(pace):
            rate = float(match.group(1))
            if rate <= 0:
                raise TreasureError(f"pace {pace!r}: the rate must be positive")
            return cls("rate", rate=rate)
        raise TreasureError(f"unknown pace {pace!r} (use max, original, original:K or rate:N/s)")

    @property
    def paced(self) -> bool:
        return self.mode != "max"

    def start(self) -> None:
        self.start_ns = time.perf_counter_ns()

    def intended(self, sequence: int, timestamp_ns: int) -> int:
        if self.mode == "rate":
            return self.start_ns + int(sequence * 1e9 / self.rate)
        if self.first_timestamp_ns is None:
            self.first_timestamp_ns = timestamp_ns
        offset = max(0, timestamp_ns - self.first_timestamp_ns)
        return self.start_ns + int(offset / self.speedup)


def wait_until(target_ns: int) -> None:
    remaining = target_ns - time.perf_counter_ns()
    if remaining > SPIN_NS:
        time.sleep((remaining - SPIN_NS) / 1e9)
    while time.perf_counter_ns() < target_ns:
        pass
