"""The disk budget of the heap pass's memray capture: how large it may grow, how that was
chosen, and whether the pass stopped at it (or at the disk's own limit).

A capture grows ~7.5 KB per tracked message (every allocation record of the loop), and
with `--keep record|document` every message of the recording goes through the tracker:
a heap pass once wrote 3 GB in 110 s. The default budget is the smaller of 2 GiB and half
the free space of the capture's folder. 2 GiB is ~280,000 tracked DOM messages, whose
reading alone costs ~13 minutes (~2.8 ms per message), far past the sample a heap figure
needs; half the free space leaves the other half to the run's result, its other
artefacts and whatever else shares the disk, so a heap pass never fills a disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import msgspec

from treasure.quantities import Unit, format_quantity, parse_quantity

DEFAULT_CAPTURE_BUDGET = 2 * 1024**3
FREE_SHARE = 0.5  # of the capture folder's free space, when that is below the default
BUDGET_STOP: Literal["budget"] = "budget"
DISK_STOP: Literal["disk"] = "disk"


class CaptureBudget(msgspec.Struct, kw_only=True):
    """The capture's budget in bytes and, when the pass stopped short, where and why."""

    budget_bytes: int
    chosen: str  # how: "--capture-budget 64 MiB", or the default and the free space it saw
    stopped: Literal["", "budget", "disk"] = ""  # "": the pass ran to its end
    reason: str = ""  # why it stopped, in words
    capture_bytes: int = 0  # the capture's size on disk when the pass stopped or ended


def parse_capture_budget(written: str) -> int:
    """`"64 MiB"` → 67108864; ValueError naming the problem for anything not above 0 B."""
    budget = parse_quantity(written, Unit.BYTES)
    if budget < 1:
        raise ValueError(f"{written!r} is not above 0 B")
    return int(budget)


def free_bytes(folder: Path) -> int:
    """What an unprivileged writer may still put on the file system holding `folder`."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def default_budget(free: int, folder: Path) -> CaptureBudget:
    """The default for `free` bytes free where the capture goes: 2 GiB, or half of `free`."""
    share = int(free * FREE_SHARE)
    if share < DEFAULT_CAPTURE_BUDGET:
        chosen = f"default: half of the {format_quantity(free, Unit.BYTES)} free in {folder}"
        return CaptureBudget(budget_bytes=share, chosen=chosen)
    default = format_quantity(DEFAULT_CAPTURE_BUDGET, Unit.BYTES)
    return CaptureBudget(budget_bytes=DEFAULT_CAPTURE_BUDGET, chosen=f"default: {default}")


def choose_budget(written: str, folder: Path) -> CaptureBudget:
    """The budget given (`--capture-budget`), else the default for `folder`'s free space."""
    if written:
        budget = parse_capture_budget(written)
        return CaptureBudget(budget_bytes=budget, chosen=f"--capture-budget {written}")
    return default_budget(free_bytes(folder), folder)
