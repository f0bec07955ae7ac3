"""Run a traced message's handler with no profile function, so the heap figures hold what the
backend allocates when no tool watches it.

With Python's allocators traced, memray installs a profile function, and on CPython 3.11
every Python call then materialises a frame object (~150-250 B) that lands in the message:
a no-op backend read 160 B, twenty trivial calls 3,336 B instead of 96 B. `_unwatched.c`
switches the profile function off around the handler call and has memray rebuild its
stack afterwards; memray's allocator hooks keep recording meanwhile, with an empty Python
stack (which is how the heap split recognises them).

A backend's Python helper threads started under the tracker would get memray's profile
function from `threading` and pay the same frame objects on every call they make:
`threads_unwatched` starts them without one. memray still records their allocations, with
no Python stack, and the heap split books those made while a message is in flight to it.

The extension is compiled at run time with the system C compiler against this Python's
headers, once per source version, into a cache directory. Where that is not possible the
pass runs watched and says so: `unavailable()` gives the reason. TREASURE_UNWATCHED=0 runs
it watched on purpose, to measure what the tracer's frame objects add.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

SOURCE = Path(__file__).with_name("_unwatched.c")
MODULE = "_treasure_unwatched"
SWITCH = "TREASURE_UNWATCHED"  # "0": run handlers watched, to see what the profiler adds

Handler = Callable[[bytes], Any]
UnwatchedRun = Callable[[Handler, bytes, Callable[[], object]], Any]


def cache_dir() -> Path:
    explicit = os.environ.get("TREASURE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "treasure"


def _target() -> Path:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    tag = SOURCE.read_bytes() + sys.version.encode() + sys.platform.encode()
    return cache_dir() / f"{MODULE}-{hashlib.sha256(tag).hexdigest()[:16]}{suffix}"


def _compile(target: Path) -> str:
    """Build the extension into `target`; "" on success, else why not."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    include = Path(sysconfig.get_paths()["include"])
    if compiler is None:
        return "no C compiler (cc) to build the unwatched call"
    if not (include / "Python.h").exists():
        return f"no Python headers in {include} to build the unwatched call"
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".so.tmp")
    os.close(handle)
    command = [compiler, "-shared", "-fPIC", "-O2", f"-I{include}", "-o", partial, str(SOURCE)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            return f"building the unwatched call failed: {last}"
        os.replace(partial, target)
    except OSError as exc:
        return f"building the unwatched call failed: {exc}"
    finally:
        Path(partial).unlink(missing_ok=True)
    return ""


@functools.cache
def _load() -> tuple[Any, str]:
    """The compiled module, or None and the reason it is not available."""
    if os.environ.get(SWITCH) == "0":
        return None, f"{SWITCH}=0 asks for handlers to run watched"
    if sys.implementation.name != "cpython":
        return None, "the unwatched call needs CPython"
    try:
        target = _target()
        problem = "" if target.exists() else _compile(target)
    except OSError as exc:
        problem = f"no cache directory for the unwatched call: {exc}"
    if problem:
        return None, problem
    spec = importlib.util.spec_from_file_location(
        MODULE, target, loader=importlib.machinery.ExtensionFileLoader(MODULE, str(target))
    )
    if spec is None or spec.loader is None:
        return None, f"cannot load {target}"
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        return None, f"cannot load {target}: {exc}"
    return module, ""


def unavailable() -> str:
    """Why handlers cannot run unwatched here, or "" when they can."""
    return _load()[1]


def compiled_call() -> UnwatchedRun | None:
    """The builtin `call(handler, payload, reinstall)`, or None where it is not available."""
    module, _ = _load()
    return None if module is None else cast(UnwatchedRun, module.call)


def memray_reinstall() -> Callable[[], object]:
    """memray's own way to put its profile function back on a thread and rebuild its stack
    from the live frames (what it does for a thread started under the tracker)."""
    from memray import _memray

    start: Callable[..., object] = _memray.start_thread_trace  # reads only the event
    return functools.partial(start, None, "call", None)


@contextlib.contextmanager
def threads_unwatched() -> Iterator[None]:
    """Inside a memray Tracker: threads started meanwhile get no profile function (memray
    gives every new thread its own), so a helper thread's Python calls make no frame objects
    either. Where handlers run watched, threads stay watched too: one mode per pass."""
    if unavailable():
        yield
        return
    hook = threading.getprofile()
    threading.setprofile(None)
    try:
        yield
    finally:
        threading.setprofile(hook)
