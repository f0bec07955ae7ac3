"""Live heap by counters cheap enough to read while a soak runs (no tracer attached).

Two counters, added up, because CPython's heap lives in two places:
- Python objects up to 512 B come from pymalloc's arenas (mmap'd, so malloc never sees
  them): `_PyObject_DebugMallocStats` walks the arenas' pool headers and writes the bytes in
  allocated blocks (size classes of 16 B), read here through an in-memory stream;
- everything else (larger Python objects, libyaml's buffers, a Rust backend's heap) goes
  through malloc: glibc's `mallinfo2()` gives the bytes in use (`uordblks`, chunk headers
  included) plus those in mmap'd chunks (`hblkhd`), summed over every arena.
Measured on CPython 3.11 here: 20-60 µs for both on a heap of 2-50 MB, against ~1 µs per
message of sys.getallocatedblocks()-style counting that gives blocks, not bytes, and the
2-4x slowdown of tracing every allocation (tracemalloc, memray). A soak reads them every K
messages, K chosen so they cost under 1 % of the loop (`passes.soak`). A private allocator
(a statically linked mimalloc, a backend's own mmap'd arena) is invisible to both: the
heap series then misses it, and RSS, sampled beside, does not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re

_ALLOCATED = re.compile(rb"# bytes in allocated blocks\s*=\s*([\d,]+)")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


class LiveHeap:
    """`read()` -> (pymalloc bytes in allocated blocks, malloc bytes in use)."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        self.unavailable = ""
        try:
            self._mallinfo2 = libc.mallinfo2
            self._stats = ctypes.pythonapi._PyObject_DebugMallocStats
        except AttributeError as exc:
            self.unavailable = f"no live-heap counter here ({exc}): needs glibc >= 2.33, CPython"
            return
        self._mallinfo2.restype = _MallInfo2
        self._mallinfo2.argtypes = []
        self._stats.argtypes = [ctypes.c_void_p]
        self._stats.restype = ctypes.c_int
        self._open = libc.open_memstream
        self._open.restype = ctypes.c_void_p
        self._open.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        self._close = libc.fclose
        self._close.argtypes = [ctypes.c_void_p]
        self._free = libc.free
        self._free.argtypes = [ctypes.c_void_p]
        # made once: ctypes objects built per read (a cast, above all, which makes a reference
        # cycle) would be garbage the counter itself leaves behind until a collection
        self._buffer, self._size = ctypes.c_void_p(), ctypes.c_size_t()
        self._buffer_ref, self._size_ref = ctypes.byref(self._buffer), ctypes.byref(self._size)

    def native(self) -> int:
        info = self._mallinfo2()
        return int(info.uordblks + info.hblkhd)

    def python(self) -> int:
        """pymalloc's bytes in allocated blocks; 0 when pymalloc is off (PYTHONMALLOC=malloc:
        then every object goes through malloc and `native()` holds it)."""
        stream = self._open(self._buffer_ref, self._size_ref)
        if not stream:
            raise OSError("open_memstream failed")
        try:
            used = self._stats(stream)
        finally:
            self._close(stream)  # the buffer and its size are final once the stream closes
        try:
            text = ctypes.string_at(self._buffer.value or 0, self._size.value)
        finally:
            self._free(self._buffer)
        found = _ALLOCATED.search(text) if used else None
        return int(found.group(1).replace(b",", b"")) if found else 0

    def read(self) -> tuple[int, int]:
        native = self.native()  # first: reading pymalloc's stats mallocs a buffer of its own
        return self.python(), native


# CPython 3.11 keeps up to 80 freed dicts, and 80 freed smallest key tables, for reuse
# (Objects/dictobject.c, PyDict_MAXFREELIST): blocks pymalloc counts as allocated.
DICT_FREE_LIST = 80


def fill_dict_free_lists() -> None:
    """Fill CPython's free lists of dicts and of small key tables before a heap series
    starts. A copied dict (`dict(d)`, a call's `**kwargs`) takes its key table from the
    allocator but frees it onto the free list, so a loop that copies one dict a turn grows
    the counted heap until the list is full: 80 tables, ~9 KiB, read as a leak of 0.4-0.6 B
    per message by a 20,000-message soak of a backend that keeps nothing. Full from the
    start, the lists take and give back without the count moving."""
    template = {"key": 0}  # a unicode-keyed dict of the smallest size: its copy clones keys
    copies = [template.copy() for _ in range(DICT_FREE_LIST)]
    del copies
