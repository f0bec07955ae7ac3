"""Message boundaries in a memray capture, and the one frame a message's allocations sit under.

memray records carry no timestamps, so a message is found by file order: the replay loop
allocates and frees a block of a unique size just before and just after the handler runs.
The blocks come from libpython's `PyMem_RawMalloc` through ctypes, which memray hooks (it
does not see `malloc` called through `ctypes.CDLL(None)`), so no build step is needed.

Between the two marks the loop also allocates (ctypes' own argument and result objects,
the exception of a failing message): those are told apart by their Python stack, since
only the handler's work runs beneath `call_handler`.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

# Sizes no parser asks for: odd, just under 64 KiB, and checked against the stack as well.
BEGIN_SIZE = 65_497
END_SIZE = 65_479

_raw_malloc = ctypes.pythonapi.PyMem_RawMalloc
_raw_malloc.argtypes = [ctypes.c_size_t]
_raw_malloc.restype = ctypes.c_void_p
_raw_free = ctypes.pythonapi.PyMem_RawFree
_raw_free.argtypes = [ctypes.c_void_p]
_raw_free.restype = None

MARK_FUNCTIONS = frozenset({"mark_begin", "mark_end"})
HANDLER_FUNCTION = "call_handler"


def mark_begin() -> None:
    _raw_free(_raw_malloc(BEGIN_SIZE))


def mark_end() -> None:
    _raw_free(_raw_malloc(END_SIZE))


def call_handler(handler: Callable[[bytes], Any], payload: bytes) -> Any:
    """The frame every counted allocation of a message sits under (a builtin handler has no
    Python frame of its own, so without this its allocations could not be told apart)."""
    return handler(payload)


def call_unwatched(
    run: Callable[[Callable[[bytes], Any], bytes, Callable[[], object]], Any],
    handler: Callable[[bytes], Any],
    payload: bytes,
    reinstall: Callable[[], object],
) -> Any:
    """`call_handler` with the profile function off (`treasure.probes.unwatched`): `run` is
    the compiled builtin, called straight from here so no Python frame of the harness lies
    between the marks and the handler."""
    return run(handler, payload, reinstall)


SENTINEL_FILE = mark_begin.__code__.co_filename  # as memray names it in a stack
