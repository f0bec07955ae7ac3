"""Which shared libraries a backend loaded bring an allocator memray cannot see.

memray sees an allocation when it goes through a function it hooks in a loaded library's
import table: libc's malloc family, mmap/munmap, and Python's allocators. A library that
maps pages with mmap but imports no malloc, no C++ `operator new` and no Python allocator
hands out memory from those pages itself (a statically linked mimalloc or jemalloc, as in
the yaml-rs wheel): memray sees the rare page mapping, never an allocation. Reading each
library's ELF dynamic symbol table finds that without running anything.
"""

from __future__ import annotations

import struct
from pathlib import Path

PAGE_SOURCES = frozenset({"mmap", "mmap64"})
ALLOCATORS = frozenset(
    {
        "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
        "aligned_alloc", "memalign", "valloc", "pvalloc",
        "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnwmSt11align_val_t",
        "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc",
        "PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc",
        "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
    }
)  # fmt: skip
_SHT_DYNSYM = 11
_SECTION = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
_SYMBOL = struct.Struct("<IBBHQQ")  # Elf64_Sym


def mapped_libraries(maps: Path = Path("/proc/self/maps")) -> frozenset[str]:
    """Paths of the shared objects mapped into this process."""
    paths = set()
    for line in maps.read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/") and ".so" in parts[5]:
            paths.add(parts[5])
    return frozenset(paths)


def imported_symbols(path: Path) -> frozenset[str] | None:
    """Undefined dynamic symbols of a 64-bit little-endian ELF object, or None if the file is
    something else (then nothing can be said about it)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01":
        return None
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shentsize = int.from_bytes(data[0x3A:0x3C], "little")
    shnum = int.from_bytes(data[0x3C:0x3E], "little")
    sections = [_SECTION.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    names: set[str] = set()
    for section in sections:
        if section[1] != _SHT_DYNSYM:
            continue
        strtab_offset = sections[section[6]][4]
        table = data[section[4] : section[4] + section[5]]
        for name, _info, _other, shndx, _value, _size in _SYMBOL.iter_unpack(table):
            if shndx == 0 and name:
                end = data.index(b"\0", strtab_offset + name)
                names.add(data[strtab_offset + name : end].decode("ascii", "replace"))
    return frozenset(names)


def private_allocator(path: Path) -> bool:
    """True when the library maps pages itself yet imports no allocator memray hooks."""
    try:
        imported = imported_symbols(path)
    except (OSError, struct.error, ValueError, IndexError):
        return False
    if imported is None:
        return False
    plain = {name.partition("@")[0] for name in imported}
    return bool(plain & PAGE_SOURCES) and not plain & ALLOCATORS


def invisible_libraries(loaded: frozenset[str], before: frozenset[str]) -> list[str]:
    """The libraries loaded since `before` whose allocations memray cannot see."""
    return sorted(path for path in loaded - before if private_allocator(Path(path)))
