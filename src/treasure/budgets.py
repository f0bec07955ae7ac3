"""Budgets: upper limits on what a run may cost, read from `treasure.toml` or `pyproject.toml`.

A budget file names metrics (see `METRICS`) and their allowed values, written as people write
them (`32 KiB`, `12 ms`, `250 µs`, `3%`). Defaults apply to every run; `[budgets.scenario.S]`
overrides them for one scenario, `[budgets.backend.B]` for one backend and
`[budgets.backend.B.scenario.S]` for one backend on one scenario (most specific wins).
`[regression]` tunes the baseline comparison of `treasure gate --baseline`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from treasure.errors import TreasureError
from treasure.results import Distribution, HeapSummary, RunResult

BUDGET_FILE = "treasure.toml"


class BudgetError(TreasureError):
    """A budget file that cannot be read: bad TOML, unknown metric, a value without a unit."""


class Unmeasured(Exception):
    """A metric a result does not hold; a budget on it fails with this reason, never passes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unit(StrEnum):
    BYTES = "bytes"
    NANOSECONDS = "ns"
    FRACTION = "fraction"  # written and shown as a percentage
    TIMES = "times"  # a ratio such as amplification, written `8192x` or `8192`
    COUNT = "count"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    title: str
    read: Callable[[RunResult], float]  # raises Unmeasured


# --- units -----------------------------------------------------------------------------------

BYTE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
TIME_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_UNIT_WORDS = {
    Unit.BYTES: "B, KB, KiB, MB, MiB, GB, GiB",
    Unit.NANOSECONDS: "ns, us (µs), ms, s",
    Unit.FRACTION: "%",
    Unit.TIMES: "x, or a plain number",
    Unit.COUNT: "a plain number",
}
TIMES_SIGN = "\u00d7"
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*(\S*)\s*$")


def parse_quantity(text: str | float, unit: Unit) -> float:
    """`"32 KiB"` → 32768 for bytes, `"250 us"` → 250000 for ns, `"3%"` → 0.03. Raises
    ValueError naming the units accepted. A bare non-zero number is refused where a unit is
    needed: `latency_p99 = 12` says nothing about milliseconds."""
    if isinstance(text, bool):
        raise ValueError("expected a quantity, not true/false")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("must not be negative")
        if text == 0 or unit in (Unit.TIMES, Unit.COUNT):
            return float(text)
        raise ValueError(f"needs a unit ({_UNIT_WORDS[unit]}), e.g. {_example(unit)!r}")
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"not a quantity (write e.g. {_example(unit)!r})")
    number, suffix = float(match.group(1)), match.group(2)
    scale = _scale(suffix, unit)
    if scale is None:
        raise ValueError(f"unknown unit {suffix!r} (use {_UNIT_WORDS[unit]})")
    if scale == 0:
        raise ValueError(f"needs a unit ({_UNIT_WORDS[unit]}), e.g. {_example(unit)!r}")
    return number * scale if number else 0.0


def _scale(suffix: str, unit: Unit) -> float | None:
    """The factor of a unit suffix; 0 when a unit is needed and missing; None when unknown."""
    lowered = suffix.lower()
    if unit is Unit.BYTES:
        return BYTE_UNITS.get(lowered, 0 if not suffix else None)
    if unit is Unit.NANOSECONDS:
        return TIME_UNITS.get(lowered, 0 if not suffix else None)
    if unit is Unit.FRACTION:
        return 0.01 if suffix == "%" else (0 if not suffix else None)
    if unit is Unit.TIMES:
        return 1.0 if lowered in ("", "x", TIMES_SIGN) else None
    return 1.0 if not suffix else None


def _example(unit: Unit) -> str:
    return {
        Unit.BYTES: "32 KiB",
        Unit.NANOSECONDS: "12 ms",
        Unit.FRACTION: "0.1%",
        Unit.TIMES: "200x",
        Unit.COUNT: "5",
    }[unit]


def format_quantity(value: float, unit: Unit) -> str:
    """A figure as a person reads it: `64.0 KiB`, `12.3 ms`, `0.50%`, `8192x`."""
    if unit is Unit.BYTES:
        for name, size in (("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0)):
            if abs(value) >= size:
                return f"{value / size:.1f} {name}"
        return f"{value:.0f} B"
    if unit is Unit.NANOSECONDS:
        for name, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
            if abs(value) >= size:
                return f"{value / size:.1f} {name}"
        return f"{value:.0f} ns"
    if unit is Unit.FRACTION:
        return f"{value * 100:.2f}%"
    if unit is Unit.TIMES:
        return f"{value:.2f}{TIMES_SIGN}" if value < 100 else f"{value:.0f}{TIMES_SIGN}"
    return f"{value:g}"


# --- metrics ---------------------------------------------------------------------------------

STATS = ("p50", "p90", "p99", "max", "mean")


def _stat(dist: Distribution, stat: str) -> float:
    return float(getattr(dist, stat))


def _heap_reader(attr: str, stat: str) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        dist = getattr(_heap(run), attr)
        if dist is None:
            raise Unmeasured(f"the heap pass recorded no {attr}")
        return _stat(dist, stat)

    return read


def _heap(run: RunResult) -> HeapSummary:
    if run.heap is None:
        raise Unmeasured("no heap pass in this result (replay it with the heap pass on)")
    if not run.heap.measurable:
        raise Unmeasured(f"heap not measurable: {run.heap.reason or 'no reason given'}")
    return run.heap


def _peak_at_users(run: RunResult) -> float:
    peak = _heap(run).peak_heap_at_users_bytes
    if peak is None:
        raise Unmeasured("the heap pass recorded no peak heap at N users")
    return float(peak)


def _latency_reader(corrected: bool, stat: str) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.latency is None:
            raise Unmeasured("no timing pass in this result")
        dist = run.latency.corrected if corrected else run.latency.uncorrected
        if dist is None:
            raise Unmeasured("no corrected latency: the run was not paced (--pace)")
        return _stat(dist, stat)

    return read


def _gc_reader(read_gc: Callable[[RunResult], float]) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.gc is None:
            raise Unmeasured("no GC figures in this result")
        return read_gc(run)

    return read


def _rss_reader(read_rss: Callable[[RunResult], float]) -> Callable[[RunResult], float]:
    def read(run: RunResult) -> float:
        if run.rss is None:
            raise Unmeasured("no RSS figures in this result")
        return read_rss(run)

    return read


def _error_rate(run: RunResult) -> float:
    if run.messages <= 0:
        raise Unmeasured("no messages were measured")
    return run.error_count / run.messages


def _build_metrics() -> dict[str, Metric]:
    metrics: list[Metric] = []
    for attr, word, unit in (
        ("allocated_bytes", "allocated", Unit.BYTES),
        ("peak_bytes", "peak", Unit.BYTES),
        ("retained_bytes", "retained", Unit.BYTES),
        ("amplification", "amplification", Unit.TIMES),
    ):
        prefix = "amplification" if word == "amplification" else f"heap_{word}"
        title = "amplification" if word == "amplification" else f"heap per message, {word}"
        metrics += [
            Metric(f"{prefix}_{stat}", unit, f"{title} {stat}", _heap_reader(attr, stat))
            for stat in STATS
        ]
    metrics.append(Metric("peak_heap_at_users", Unit.BYTES, "peak heap at N users", _peak_at_users))
    for corrected, prefix, title in (
        (False, "latency", "latency"),
        (True, "latency_corrected", "latency (from intended send time)"),
    ):
        metrics += [
            Metric(
                f"{prefix}_{stat}",
                Unit.NANOSECONDS,
                f"{title} {stat}",
                _latency_reader(corrected, stat),
            )
            for stat in (*STATS, "p999")
        ]
    metrics += [
        Metric(
            "gc_per_1k",
            Unit.COUNT,
            "GC collections per 1k messages",
            _gc_reader(lambda run: run.gc.collections_per_1k if run.gc else 0.0),
        ),
        Metric(
            "gc_pause_p99",
            Unit.NANOSECONDS,
            "GC pause p99",
            _gc_reader(lambda run: float(run.gc.pause_p99_ns if run.gc else 0)),
        ),
        Metric(
            "gc_pause_max",
            Unit.NANOSECONDS,
            "GC pause max",
            _gc_reader(lambda run: float(run.gc.pause_max_ns if run.gc else 0)),
        ),
        Metric("error_rate", Unit.FRACTION, "error rate", _error_rate),
        Metric(
            "rss_growth_per_message",
            Unit.BYTES,
            "RSS growth per message",
            _rss_reader(lambda run: run.rss.growth_per_message_bytes if run.rss else 0.0),
        ),
        Metric(
            "rss_peak",
            Unit.BYTES,
            "peak RSS",
            _rss_reader(lambda run: float(run.rss.peak_bytes if run.rss else 0)),
        ),
    ]
    return {metric.name: metric for metric in metrics}


METRICS: dict[str, Metric] = _build_metrics()


def metric(name: str) -> Metric:
    """The metric of this name; a BudgetError suggesting the nearest name otherwise."""
    found = METRICS.get(name)
    if found is None:
        near = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else " (see `treasure gate --help`)"
        raise BudgetError(f"unknown metric {name!r}{hint}")
    return found


# --- budget files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One budget: `metric` may be at most `allowed` (in base units); `written` as in the file."""

    metric: Metric
    allowed: float
    written: str


# A metric mapped to None is switched off (`heap_peak_p99 = false`) for that level.
LimitTable = dict[str, Limit | None]


@dataclass(frozen=True)
class RegressionSettings:
    heap_tolerance: float = 0.02  # allowed relative growth of heap per message
    heap_slack_bytes: float = 64.0  # plus this much, so near-zero figures do not flap
    heap_metrics: tuple[str, ...] = ("heap_peak_p50", "heap_allocated_p50")
    latency_threshold: float = 0.10  # fail when the CI's lower bound exceeds 1 + this
    confidence: float = 0.95
    resamples: int = 2000
    seed: int = 0
    min_blocks: int = 5


@dataclass(frozen=True)
class Budgets:
    source: str = ""
    defaults: LimitTable = field(default_factory=dict)
    scenarios: dict[str, LimitTable] = field(default_factory=dict)
    backends: dict[str, LimitTable] = field(default_factory=dict)
    backend_scenarios: dict[tuple[str, str], LimitTable] = field(default_factory=dict)
    regression: RegressionSettings = field(default_factory=RegressionSettings)

    def for_run(self, backend: str, scenario: str) -> list[Limit]:
        """The limits that hold for one backend on one scenario, most specific level winning."""
        merged: LimitTable = {}
        for level in (
            self.defaults,
            self.scenarios.get(scenario, {}),
            self.backends.get(backend, {}),
            self.backend_scenarios.get((backend, scenario), {}),
        ):
            merged.update(level)
        return [limit for limit in merged.values() if limit is not None]

    @property
    def empty(self) -> bool:
        tables = [
            self.defaults,
            *self.scenarios.values(),
            *self.backends.values(),
            *self.backend_scenarios.values(),
        ]
        return not any(tables)


def find_budget_file(directory: Path) -> Path | None:
    """`treasure.toml`, else a `pyproject.toml` holding `[tool.treasure]`, in `directory`."""
    candidate = directory / BUDGET_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return None
        if isinstance(data.get("tool"), dict) and "treasure" in data["tool"]:
            return pyproject
    return None


def load_budgets(path: Path) -> Budgets:
    """Read budgets from `path`: `[tool.treasure]` of a pyproject.toml, else the top level."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BudgetError(f"cannot read budgets {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BudgetError(f"{path}: not valid TOML ({exc})") from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or not isinstance(tool.get("treasure"), dict):
            raise BudgetError(f"{path}: no [tool.treasure] table")
        return parse_budgets(tool["treasure"], str(path), prefix="tool.treasure.")
    return parse_budgets(data, str(path))


def parse_budgets(data: Mapping[str, object], source: str, prefix: str = "") -> Budgets:
    unknown = sorted(set(data) - {"budgets", "regression"})
    if unknown:
        raise BudgetError(
            f"{source}: unknown table [{prefix}{unknown[0]}] (expected [budgets] and [regression])"
        )
    budgets = _table(data.get("budgets", {}), f"{prefix}budgets", source)
    defaults, scenarios, backends, pairs = _split_levels(budgets, f"{prefix}budgets", source)
    regression = _parse_regression(
        _table(data.get("regression", {}), f"{prefix}regression", source), source, prefix
    )
    return Budgets(source, defaults, scenarios, backends, pairs, regression)


Levels = tuple[
    LimitTable, dict[str, LimitTable], dict[str, LimitTable], dict[tuple[str, str], LimitTable]
]


def _split_levels(budgets: Mapping[str, object], where: str, source: str) -> Levels:
    defaults = _limits(budgets, where, source, nested=("scenario", "backend"))
    scenarios = {
        name: _limits(
            _table(body, f"{where}.scenario.{name}", source), f"{where}.scenario.{name}", source
        )
        for name, body in _table(budgets.get("scenario", {}), f"{where}.scenario", source).items()
    }
    backends: dict[str, LimitTable] = {}
    pairs: dict[tuple[str, str], LimitTable] = {}
    for name, body in _table(budgets.get("backend", {}), f"{where}.backend", source).items():
        level = f"{where}.backend.{name}"
        table = _table(body, level, source)
        backends[name] = _limits(table, level, source, nested=("scenario",))
        for scenario, inner in _table(table.get("scenario", {}), level, source).items():
            pair_level = f"{level}.scenario.{scenario}"
            pairs[name, scenario] = _limits(_table(inner, pair_level, source), pair_level, source)
    return defaults, scenarios, backends, pairs


def _table(value: object, where: str, source: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BudgetError(f"{source}: [{where}] must be a table")
    return value


def _limits(
    table: Mapping[str, object], where: str, source: str, nested: tuple[str, ...] = ()
) -> LimitTable:
    limits: LimitTable = {}
    for name, value in table.items():
        if name in nested:
            continue
        try:
            found = metric(name)
        except BudgetError as exc:
            raise BudgetError(f"{source}: [{where}] {exc}") from None
        if value is False:
            limits[name] = None
            continue
        if not isinstance(value, str | int | float) or value is True:
            raise BudgetError(
                f"{source}: [{where}] {name} = {value!r}: expected a quantity "
                f"such as {_example(found.unit)!r}, or false"
            )
        try:
            allowed = parse_quantity(value, found.unit)
        except ValueError as exc:
            raise BudgetError(f"{source}: [{where}] {name} = {value!r}: {exc}") from None
        limits[name] = Limit(found, allowed, str(value))
    return limits


def _parse_regression(table: Mapping[str, object], source: str, prefix: str) -> RegressionSettings:
    where = f"{prefix}regression"
    defaults = RegressionSettings()
    known = set(RegressionSettings.__dataclass_fields__) - {"heap_slack_bytes"} | {"heap_slack"}
    for key in table:
        if key not in known:
            raise BudgetError(
                f"{source}: [{where}] unknown setting {key!r} (known: {', '.join(sorted(known))})"
            )

    def quantity(key: str, unit: Unit, default: float) -> float:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise BudgetError(f"{source}: [{where}] {key} = {value!r}: expected a quantity")
        try:
            return parse_quantity(value, unit)
        except ValueError as exc:
            raise BudgetError(f"{source}: [{where}] {key} = {value!r}: {exc}") from None

    def integer(key: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BudgetError(f"{source}: [{where}] {key} = {value!r}: expected an integer")
        return value

    confidence = quantity("confidence", Unit.FRACTION, defaults.confidence)
    if not 0.5 <= confidence < 1:
        raise BudgetError(f"{source}: [{where}] confidence must lie between 50% and 99.9%")
    heap_metrics = table.get("heap_metrics", list(defaults.heap_metrics))
    if not isinstance(heap_metrics, list) or not all(isinstance(m, str) for m in heap_metrics):
        raise BudgetError(f"{source}: [{where}] heap_metrics must be a list of metric names")
    for name in heap_metrics:
        if not name.startswith(("heap_", "amplification_")):
            raise BudgetError(f"{source}: [{where}] heap_metrics: {name!r} is not a heap metric")
        metric(name)
    return RegressionSettings(
        heap_tolerance=quantity("heap_tolerance", Unit.FRACTION, defaults.heap_tolerance),
        heap_slack_bytes=quantity("heap_slack", Unit.BYTES, defaults.heap_slack_bytes),
        heap_metrics=tuple(heap_metrics),
        latency_threshold=quantity("latency_threshold", Unit.FRACTION, defaults.latency_threshold),
        confidence=confidence,
        resamples=max(100, integer("resamples", defaults.resamples)),
        seed=integer("seed", defaults.seed),
        min_blocks=max(2, integer("min_blocks", defaults.min_blocks)),
    )
