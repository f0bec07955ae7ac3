"""Ground-truth backends for the heap probe: each allocates exactly known bytes per message.

The native ones call tiny C libraries (gt_alloc.c; gt_arena.c, a private allocator),
compiled on first use into `_build/` and loaded with `ctypes.CDLL(path)`: memray hooks a
loaded library's malloc/free like any other's. Every backend returns one prebuilt record,
so the only Python allocations a message makes are ctypes' few argument objects.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import ClassVar

from treasure.parsers import BackendKind, Limits, Routed
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

HERE = Path(__file__).parent
BUILD_DIR = HERE / "_build"
_RECORD: Routed = ("ground.truth", "p-0", "s-0")


def build_library(name: str = "gt_alloc") -> Path:
    """The compiled library `name`.c, built once per source version; parallel builders each
    write their own temporary file and rename it into place, so none sees a half-written one."""
    source = HERE / f"{name}.c"
    digest = hashlib.sha256(source.read_bytes() + sys.platform.encode()).hexdigest()[:16]
    target = BUILD_DIR / f"{name}-{digest}.so"
    if target.exists():
        return target
    BUILD_DIR.mkdir(exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=BUILD_DIR, suffix=".so.tmp")
    os.close(handle)
    command = ["cc", "-shared", "-fPIC", "-O1", "-fno-builtin", "-o", partial, str(source)]
    try:
        subprocess.run(command, check=True, capture_output=True)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


@cache
def library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build_library()))
    for name in ("gt_churn", "gt_retain", "gt_invisible"):
        function = getattr(lib, name)
        function.argtypes = [ctypes.c_size_t]
        function.restype = ctypes.c_long
    for name in ("gt_helper_churn",):
        function = getattr(lib, name)
        function.argtypes = [ctypes.c_size_t]
        function.restype = ctypes.c_long
    for name in ("gt_release", "gt_helper_start"):
        function = getattr(lib, name)
        function.argtypes = []
        function.restype = ctypes.c_long
    return lib


@cache
def arena_library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build_library("gt_arena")))
    lib.gt_arena_churn.argtypes = [ctypes.c_size_t]
    lib.gt_arena_churn.restype = ctypes.c_long
    return lib


class _GroundTruth:
    name: ClassVar[str] = "ground-truth"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.lib = library()
        self.calls = 0

    def route(self, payload: bytes) -> Routed:
        self.work(self.calls)
        self.calls += 1
        return _RECORD

    def work(self, call: int) -> None:
        raise NotImplementedError


class NativeAlloc64K(_GroundTruth):
    """Allocates 64 KiB natively per message and frees it before returning."""

    name = "native-alloc-64k"
    allocates = 64 * 1024

    def work(self, call: int) -> None:
        self.lib.gt_churn(self.allocates)


class NativeRetain16K(_GroundTruth):
    """Keeps 16 KiB of native memory alive per message."""

    name = "native-retain-16k"
    retains = 16 * 1024

    def work(self, call: int) -> None:
        self.lib.gt_retain(self.retains)


class NativeLeakEvery3rd(_GroundTruth):
    """Allocates 32 KiB per message and frees it; every 3rd call (0, 3, 6, ...) also leaks
    24 KiB."""

    name = "native-leak-every-3rd"
    allocates = 32 * 1024
    leaks = 24 * 1024

    def work(self, call: int) -> None:
        self.lib.gt_churn(self.allocates)
        if call % 3 == 0:
            self.lib.gt_retain(self.leaks)


class PythonBytes48K(_GroundTruth):
    """Allocates one 48 KiB bytes object per message through Python's allocator, nothing
    native, and drops it before returning."""

    name = "python-bytes-48k"
    payload_size = 48 * 1024
    allocates = sys.getsizeof(bytes(payload_size))

    def work(self, call: int) -> None:
        block = bytes(self.payload_size)
        del block


class InvisibleMmap1M(_GroundTruth):
    """Maps, touches and unmaps 1 MiB per message through raw system calls: work memray
    cannot see, as with a statically linked allocator."""

    name = "invisible-mmap-1m"
    maps = 1 << 20

    def work(self, call: int) -> None:
        self.lib.gt_invisible(self.maps)


class PrivateArena64K(_GroundTruth):
    """Works in 64 KiB of a private arena per message (gt_arena.c: pages from mmap once, no
    malloc), as a statically linked mimalloc does: after the first message nothing is
    mapped, faulted or allocated where memray or the kernel could see it."""

    name = "private-arena-64k"
    uses = 64 * 1024

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits)
        self.arena = arena_library()

    def work(self, call: int) -> None:
        self.arena.gt_arena_churn(self.uses)


class DeclaredInvisible(_GroundTruth):
    """A backend that says its heap cannot be traced."""

    name = "declared-invisible"
    heap_not_measurable = "links its own allocator statically"

    def work(self, call: int) -> None:
        self.lib.gt_invisible(4096)


def _document() -> dict[str, object]:
    return {"event_type": "e", "player_id": "p", "session_id": "s", "blob": bytes(8192)}


def _document_bytes() -> int:
    document = _document()
    return sys.getsizeof(document) + sys.getsizeof(document["blob"])


class PythonDocument8K(_GroundTruth):
    """A DOM-like backend whose document is a fresh dict holding an 8 KiB bytes object: a
    router that keeps documents holds exactly `keeps` bytes of them per user."""

    name = "python-document-8k"
    keeps = _document_bytes()

    def work(self, call: int) -> None:
        pass

    def load(self, payload: bytes) -> dict[str, object]:
        return _document()
