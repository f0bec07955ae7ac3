"""CPU pass: the timing worker run again as a child of `py-spy record`, never the timing
pass itself, so the profiler's cost never reaches a latency figure.

One py-spy run writes a speedscope JSON; the SVG flamegraph is drawn from the same samples
(py-spy writes one format per run, and a second profiled run would cost a second replay
and describe different samples).

Sampling: `--native` at DEFAULT_RATE_HZ (100), blocking. `--native` shows libyaml's
`yaml_parser_*` frames, where most of a C-backed parser's time goes; it cannot combine with
`--nonblocking`, and non-blocking sampling lost ~35 % of samples to read errors here, so
the profiled process is paused for each sample. That costs wall time, not accuracy: a
paused process is sampled exactly (code that waits for a deadline on the wall clock,
such as a spin or a sleep, loses the pauses and looks cheaper than it is). Measured on
pyyaml-dom over blowup-12k (2 busy cores): the replay loop took +5-30 % longer at 100 Hz,
about twice as long at 250 Hz, native or not; each result keeps its own figures
(loop_ns against duration_ns, pass_seconds against timing_pass_seconds).

The backend's share (CpuSummary.backend_share) counts py-spy's samples, all threads:
- the denominator is the samples inside the replay loop: those whose stack holds the
  timing pass's `run_timing_pass` frame, less those summarising latencies after the loop
  (under treasure/probes/latency.py; inside the loop the probe only appends to arrays) and
  those waiting for the harness-only rerun that measures the harness's RSS growth.
  Start-up, imports and that summary are per pass, not per message, and left out;
- a loop sample is in the backend when a frame deeper than `run_timing_pass` belongs to
  the backend: a file of the backend class's module, of treasure/parsers/, of the backend's
  package when it is not treasure's, or of the import packages of its library distribution
  (yaml, ruamel, msgspec, fast_yaml, treasure_rs, ...), or a native libyaml symbol
  (`yaml_*`).
Native helpers called from there (malloc, the interpreter, a GC the parse triggered) count
as the backend's: the handler caused them. Reading frames, the session model, clocks,
RSS sampling and building the latency histogram are the harness's.
"""

from __future__ import annotations

import math
import os
import platform
import re
import shutil
import sys
import sysconfig
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import packages_distributions
from inspect import getsourcefile
from pathlib import Path

import msgspec

from treasure.parsers import resolve
from treasure.report.flamegraph import Stack

PassProgress = Callable[[str, int, int], None]
DEFAULT_RATE_HZ = 100
HOT_FUNCTIONS = 15
CAP_SYS_PTRACE = 19
LOOP_FUNCTION = "run_timing_pass"
LOOP_FILE_SUFFIX = "treasure/passes/timing.py"
# run after the loop, once per pass: the latency summary, the harness-only RSS rerun
SUMMARY_FILE_SUFFIXES = ("treasure/probes/latency.py", "treasure/passes/rss_harness.py")
NATIVE_BACKEND_SYMBOL = re.compile(r"^(yaml_|_?ruamel_yaml|libyaml)")
PTRACE_FIX = (
    "give the container --cap-add=SYS_PTRACE (Kubernetes: securityContext capabilities "
    "add SYS_PTRACE), or on the host run `sysctl kernel.yama.ptrace_scope=1`"
)
PERMISSION_MARKERS = ("permission denied", "operation not permitted", "sys_ptrace")


class SpeedscopeFrame(msgspec.Struct):
    name: str
    file: str = ""
    line: int | None = None


class SpeedscopeProfile(msgspec.Struct):
    name: str = ""
    samples: list[list[int]] = []


class SpeedscopeShared(msgspec.Struct):
    frames: list[SpeedscopeFrame]


class Speedscope(msgspec.Struct):
    shared: SpeedscopeShared
    profiles: list[SpeedscopeProfile]


# -- finding py-spy and whether it may attach -------------------------------------------


def find_py_spy() -> Path | None:
    """The py-spy of the running interpreter's environment first, then PATH."""
    names = ("py-spy.exe", "py-spy") if os.name == "nt" else ("py-spy",)
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        folders.append(Path(sysconfig.get_path("scripts", user_scheme)))
    for folder in folders:
        for name in names:
            candidate = folder / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("py-spy")
    return Path(found) if found else None


def ptrace_refusal(scope: int | None, capabilities: int) -> str:
    """Why this machine forbids py-spy from reading its own child, or "" when it may.

    py-spy starts the worker as its child: Yama scopes 0 and 1 allow a parent to trace its
    child, scope 2 wants CAP_SYS_PTRACE, scope 3 forbids ptrace until reboot."""
    if scope == 3:
        return "kernel.yama.ptrace_scope is 3 (ptrace disabled until reboot)"
    if scope == 2 and not capabilities & (1 << CAP_SYS_PTRACE):
        return "kernel.yama.ptrace_scope is 2 and this process lacks CAP_SYS_PTRACE"
    return ""


def machine_ptrace_refusal() -> str:
    try:
        scope: int | None = int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
    except (OSError, ValueError):
        scope = None  # no Yama: ordinary ptrace rules
    capabilities = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                capabilities = int(line.split()[1], 16)
    except OSError:
        pass
    return ptrace_refusal(scope, capabilities)


def not_attached_reason(detail: str) -> str:
    return f"py-spy cannot attach ({detail}): {PTRACE_FIX}; CPU pass skipped"


def explain_failure(py_spy_stderr: str) -> str:
    """One line for a failed py-spy run: ptrace refusals get the fix."""
    text = py_spy_stderr.lower()
    if any(marker in text for marker in PERMISSION_MARKERS):
        return not_attached_reason("ptrace not permitted")
    lines = [line.strip() for line in py_spy_stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    last = (errors or lines or ["no output"])[0 if errors else -1]
    return f"py-spy failed: {last}; CPU pass skipped"


def native_supported() -> bool:
    """py-spy unwinds native stacks on x86-64 Linux and Windows."""
    machine = platform.machine().lower()
    return sys.platform in ("linux", "win32") and machine in ("x86_64", "amd64")


# -- which frames are the backend's -----------------------------------------------------


def backend_roots(spec: str) -> tuple[str, ...]:
    """Path prefixes of the backend's code: its module, its package when it is not
    treasure's own, treasure/parsers/, and the import packages of its library."""
    info = resolve(spec)
    roots: set[Path] = {Path(str(getsourcefile(resolve)).removesuffix("__init__.py"))}
    if info.factory is not None:
        module_file = getsourcefile(info.factory)
        if module_file:
            roots.add(Path(module_file))
            top = getattr(info.factory, "__module__", "").partition(".")[0]
            if top and top != "treasure" and info.source != "module":  # a plugin's package
                roots.update(_package_dirs([top]))
    wanted = info.library.lower().replace("_", "-")
    packages = [
        package
        for package, distributions in packages_distributions().items()
        if any(d.lower().replace("_", "-") == wanted for d in distributions)
    ]
    roots.update(_package_dirs(packages))
    prefixes: set[str] = set()
    for root in roots:
        tail = os.sep if root.is_dir() else ""
        prefixes.update((f"{root}{tail}", f"{os.path.realpath(root)}{tail}"))
    return tuple(sorted(prefixes))


def _package_dirs(packages: Iterable[str]) -> list[Path]:
    import importlib.util

    dirs: list[Path] = []
    for package in packages:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            dirs.extend(Path(location) for location in spec.submodule_search_locations)
        elif spec.origin and spec.origin not in ("built-in", "frozen"):
            dirs.append(Path(spec.origin))  # a single-file module or extension
    return dirs


def is_backend_frame(frame: SpeedscopeFrame, roots: tuple[str, ...]) -> bool:
    return frame.file.startswith(roots) or bool(NATIVE_BACKEND_SYMBOL.match(frame.name))


def is_loop_frame(frame: SpeedscopeFrame) -> bool:
    return frame.name == LOOP_FUNCTION and frame.file.replace("\\", "/").endswith(LOOP_FILE_SUFFIX)


def is_summary_frame(frame: SpeedscopeFrame) -> bool:
    return frame.file.replace("\\", "/").endswith(SUMMARY_FILE_SUFFIXES)


RUST_HASH = re.compile(r"::h[0-9a-f]{16}$")
RUST_ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$u20$": " "}


def function_name(name: str) -> str:
    """Rust's legacy-mangled names read back: `Scanner$LT$T$GT$::f::h0123..` -> `Scanner<T>::f`."""
    name = RUST_HASH.sub("", name)
    for escaped, plain in RUST_ESCAPES.items():
        name = name.replace(escaped, plain)
    return name


def frame_label(frame: SpeedscopeFrame) -> str:
    """`function (package/file.py)`: short enough to read, long enough to tell apart."""
    name = function_name(frame.name)
    path = frame.file.replace("\\", "/")
    for marker in ("/site-packages/", "/dist-packages/", "/src/"):
        if marker in path:
            path = path.rpartition(marker)[2]
            break
    else:
        path = "/".join(path.split("/")[-2:])
    return f"{name} ({path})" if path else name


class ProfileFigures(msgspec.Struct, kw_only=True):
    samples: int
    loop_samples: int
    backend_samples: int
    hot_functions: list[tuple[str, int, bool]]


def analyse(profile: Speedscope, roots: tuple[str, ...]) -> ProfileFigures:
    frames = profile.shared.frames
    backend = [is_backend_frame(frame, roots) for frame in frames]
    loop = [is_loop_frame(frame) for frame in frames]
    summary = [is_summary_frame(frame) for frame in frames]
    samples = loop_samples = backend_samples = 0
    hot: Counter[tuple[str, bool]] = Counter()
    for thread in profile.profiles:
        for stack in thread.samples:  # root first, leaf last
            samples += 1
            depth = next((i for i in range(len(stack) - 1, -1, -1) if loop[stack[i]]), None)
            if depth is None or any(summary[index] for index in stack[depth + 1 :]):
                continue
            loop_samples += 1
            inside = any(backend[index] for index in stack[depth + 1 :])
            backend_samples += inside
            hot[(frame_label(frames[stack[-1]]), inside)] += 1
    return ProfileFigures(
        samples=samples,
        loop_samples=loop_samples,
        backend_samples=backend_samples,
        hot_functions=[
            (label, count, inside) for (label, inside), count in hot.most_common(HOT_FUNCTIONS)
        ],
    )


def labelled_stacks(profile: Speedscope, roots: tuple[str, ...]) -> Iterator[Stack]:
    """Every sample as (label, inside the backend) frames, root first, for a flamegraph."""
    frames = profile.shared.frames
    labels = [frame_label(frame) for frame in frames]
    backend = [is_backend_frame(frame, roots) for frame in frames]
    for thread in profile.profiles:
        for stack in thread.samples:
            in_loop = inside = False
            labelled: list[tuple[str, bool]] = []
            for index in stack:
                inside = inside or (in_loop and backend[index])
                in_loop = in_loop or is_loop_frame(frames[index])
                labelled.append((labels[index], inside))
            yield labelled


def read_speedscope(path: Path) -> Speedscope:
    return msgspec.json.decode(path.read_bytes(), type=Speedscope)


def share_interval(hits: int, samples: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a share of `hits` in `samples` (stays inside [0, 1]
    and holds for shares near 1, where a spinning backend's is)."""
    if samples <= 0:
        return None
    share = hits / samples
    spread = z * z / samples
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / samples + spread / (4 * samples)) / (1 + spread)
    return (max(0.0, centre - half), min(1.0, centre + half))
