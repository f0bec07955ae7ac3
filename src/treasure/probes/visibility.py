"""Can memray see a backend's native heap? Decided without memray, in a fresh process:
load the backend, route one message, and read the ELF imports of every shared library it
brought in (`_heap_libraries`). `python -m treasure.probes.visibility NAME` prints JSON.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

from treasure.parsers import ParseError, create, resolve
from treasure.probes._heap_libraries import invisible_libraries, mapped_libraries

SAMPLE = b"event_type: probe\nplayer_id: p-1\nsession_id: s-1\nposition: {x: 1, y: 2}\n"


def check_here(spec: str) -> dict[str, object]:
    """Run in a process that has not loaded the backend yet."""
    before = mapped_libraries()
    info = resolve(spec)
    if not info.heap_measurable:
        return {"measurable": False, "how": f"declared by the backend: {info.heap_note}"}
    backend = create(spec)
    with contextlib.suppress(ParseError):  # the libraries it needs are loaded either way
        backend.route(SAMPLE)
    loaded = mapped_libraries() - before
    unseen = invisible_libraries(loaded | before, before)
    if unseen:
        names = ", ".join(Path(path).name for path in unseen)
        return {
            "measurable": False,
            "how": f"ELF imports: {names} maps its own pages and imports no allocator "
            "memray hooks (a statically linked allocator)",
        }
    if not loaded:
        return {
            "measurable": True,
            "how": "loads no shared library of its own: Python's and libc's allocators, "
            "which memray hooks",
        }
    names = ", ".join(sorted(Path(path).name for path in loaded))
    return {
        "measurable": True,
        "how": f"ELF imports of the libraries it loads ({names}) go through allocators "
        "memray hooks",
    }


def check(spec: str) -> dict[str, object]:
    """`check_here` in a fresh subprocess, so no other backend's libraries are mapped."""
    done = subprocess.run(
        [sys.executable, "-m", "treasure.probes.visibility", spec],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"measurable": None, "how": f"check failed: {last}"}
    result: dict[str, object] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    print(json.dumps(check_here(sys.argv[1])))
