"""Hardware event counts for the worker's own thread, through the perf_event_open syscall.

Instructions retired per message do not move with the machine's load the way microseconds
do, so beside µs/msg they are the figure a noisy CI can compare run to run. The counter
covers user space only (no kernel, no hypervisor), which an unprivileged process may open
at `kernel.perf_event_paranoid` up to 2; it counts the calling thread alone (a backend's
helper threads are not in it).

Virtual machines and containers often expose no hardware counters, or deny the syscall:
`open_counter` then returns no counter and the reason, with the errno and the paranoid
setting, so a result says "not available: ..." and never shows 0 instructions.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import fcntl
import os
import platform
import struct
from dataclasses import dataclass
from pathlib import Path

PARANOID = Path("/proc/sys/kernel/perf_event_paranoid")
# The syscall's number: it has no libc wrapper.
SYSCALL_NUMBERS = {"x86_64": 298, "aarch64": 241, "armv7l": 364, "ppc64le": 319, "s390x": 331}
ATTR_SIZE = 64  # PERF_ATTR_SIZE_VER0: every kernel with perf events accepts it
DISABLED, EXCLUDE_KERNEL, EXCLUDE_HV = 1 << 0, 1 << 5, 1 << 6
READ_TIMES = 1 | 2  # PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING
FD_CLOEXEC_FLAG = 1 << 3  # PERF_FLAG_FD_CLOEXEC
IOC_ENABLE, IOC_DISABLE, IOC_RESET = 0x2400, 0x2401, 0x2403  # _IO('$', 0 | 1 | 3)


class Event(enum.Enum):
    """(perf type, config, the kernel's name): what a counter counts."""

    INSTRUCTIONS = (0, 1, "PERF_COUNT_HW_INSTRUCTIONS")  # type PERF_TYPE_HARDWARE
    PAGE_FAULTS = (1, 2, "PERF_COUNT_SW_PAGE_FAULTS")  # PERF_TYPE_SOFTWARE: every kernel


def paranoid_setting() -> str:
    try:
        return PARANOID.read_text().strip()
    except OSError:
        return "unreadable"


def _attributes(event: Event) -> ctypes.Array[ctypes.c_char]:
    kind, config, _ = event.value
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("IIQ", attr, 0, kind, ATTR_SIZE, config)
    struct.pack_into("Q", attr, 32, READ_TIMES)  # read_format
    struct.pack_into("Q", attr, 40, DISABLED | EXCLUDE_KERNEL | EXCLUDE_HV)  # flag bits
    return (ctypes.c_char * ATTR_SIZE).from_buffer_copy(attr)


_HINTS = {
    errno.ENOENT: "this machine exposes no such hardware counter (usual in virtual machines)",
    errno.EOPNOTSUPP: "this machine exposes no such hardware counter (usual in virtual machines)",
    errno.ENODEV: "this machine exposes no such hardware counter (usual in virtual machines)",
    errno.EACCES: "denied: a paranoid setting above 2, or a container's seccomp profile",
    errno.EPERM: "denied: a paranoid setting above 2, or a container's seccomp profile",
    errno.ENOSYS: "the kernel has no perf events, or a seccomp profile hides the syscall",
}


def refusal(event: Event, code: int) -> str:
    """Why a counter could not be opened, in one line with its errno and the paranoid setting."""
    name = errno.errorcode.get(code, str(code))
    hint = _HINTS.get(code, os.strerror(code))
    return (
        f"perf_event_open({event.value[2]}) failed with {name}: {hint}; "
        f"kernel.perf_event_paranoid = {paranoid_setting()}"
    )


@dataclass
class EventCounter:
    """An open counter of one event for this thread; `start`/`stop` bracket what it counts."""

    fd: int
    event: Event
    multiplexed: bool = False  # the kernel shared the counter with others: counts scaled

    def start(self) -> None:
        fcntl.ioctl(self.fd, IOC_RESET, 0)
        fcntl.ioctl(self.fd, IOC_ENABLE, 0)

    def stop(self) -> int:
        """The events counted since `start` (scaled up when the counter ran part time)."""
        fcntl.ioctl(self.fd, IOC_DISABLE, 0)
        value, enabled, running = struct.unpack("QQQ", os.read(self.fd, 24))
        if running and running < enabled:
            self.multiplexed = True
            return round(int(value) * int(enabled) / int(running))
        return int(value)

    def close(self) -> None:
        os.close(self.fd)


def open_counter(event: Event = Event.INSTRUCTIONS) -> tuple[EventCounter | None, str]:
    """A counter for the calling thread, or None and why not."""
    number = SYSCALL_NUMBERS.get(platform.machine())
    if number is None:
        return None, f"perf_event_open: no syscall number known for {platform.machine()}"
    libc = ctypes.CDLL(None, use_errno=True)
    attributes = _attributes(event)
    long = ctypes.c_long  # a variadic call: every argument a full register wide
    fd = libc.syscall(  # pid 0, cpu -1: this thread, on whichever CPU it runs; no group
        long(number), attributes, long(0), long(-1), long(-1), ctypes.c_ulong(FD_CLOEXEC_FLAG)
    )
    if fd < 0:
        return None, refusal(event, ctypes.get_errno())
    return EventCounter(fd, event), ""
