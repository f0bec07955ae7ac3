"""Budgets: upper limits on what a run may cost, read from `treasure.toml` or `pyproject.toml`.

A budget file names metrics (see `METRICS`) and their allowed values, written as people write
them (`32 KiB`, `12 ms`, `250 µs`, `3%`). Defaults apply to every run; `[budgets.scenario.S]`
overrides them for one scenario, `[budgets.backend.B]` for one backend and
`[budgets.backend.B.scenario.S]` for one backend on one scenario (most specific wins).
`[regression]` tunes the baseline comparison of `treasure gate --baseline`.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from treasure.errors import BudgetError
from treasure.metrics import FLAT, Metric, metric
from treasure.quantities import Unit, example, format_quantity, parse_quantity

BUDGET_FILE = "treasure.toml"


# --- budget files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """One budget: `metric` may be at most `allowed` (in base units); `written` as in the file."""

    metric: Metric
    allowed: float
    written: str
    flat: bool = False  # `growth_per_message = "flat"`: the verdict must be flat


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
        """No budget that can be checked: none written, or every one switched off."""
        tables = [
            self.defaults,
            *self.scenarios.values(),
            *self.backends.values(),
            *self.backend_scenarios.values(),
        ]
        return not any(limit is not None for table in tables for limit in table.values())


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
    except UnicodeDecodeError as exc:
        raise BudgetError(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BudgetError(f"{path}: not valid TOML ({exc})") from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or not isinstance(tool.get("treasure"), dict):
            raise BudgetError(f"{path}: no [tool.treasure] table")
        return parse_budgets(tool["treasure"], str(path), prefix="tool.treasure.")
    return parse_budgets(data, str(path))


def parse_budgets(data: Mapping[str, object], source: str, prefix: str = "") -> Budgets:
    unknown = sorted(set(data) - {"budgets", "regression", "routing"})  # routing: routing.py
    if unknown:
        hint = _did_you_mean(unknown[0], ("budgets", "regression"), prefix)
        raise BudgetError(
            f"{source}: unknown table [{prefix}{unknown[0]}]{hint} "
            "(expected [budgets] and [regression])"
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
        if isinstance(value, dict):
            hint = _did_you_mean(name, nested, f"{where}.") if nested else ""
            raise BudgetError(
                f"{source}: unknown table [{where}.{name}]{hint}"
                + (f" (tables here: {', '.join(nested)})" if nested else " (no tables here)")
            )
        try:
            found = metric(name)
        except BudgetError as exc:
            raise BudgetError(f"{source}: [{where}] {exc}") from None
        if value is False:
            limits[name] = None
            continue
        limits[name] = _limit(found, value, f"{source}: [{where}] {name} = {value!r}")
    return limits


def _limit(found: Metric, value: object, context: str) -> Limit:
    """One budget's allowed value; an error when it is not a quantity or cannot work."""
    if found.flat_ok and value == FLAT:
        return Limit(found, 0.0, FLAT, flat=True)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BudgetError(
            f"{context}: expected a quantity such as {example(found.unit)!r}, or false"
        )
    try:
        allowed = parse_quantity(value, found.unit)
    except ValueError as exc:
        raise BudgetError(f"{context}: {exc}") from None
    if found.minimum and allowed <= 0:
        raise BudgetError(
            f"{context}: a budget that cannot fail: {found.name} is a lower limit, never below 0"
        )
    if allowed == 0 and not found.zero_ok:
        raise BudgetError(f"{context}: 0 can never hold for {found.name} ({found.title})")
    if found.ceiling is not None and allowed >= found.ceiling:
        raise BudgetError(
            f"{context}: a budget that cannot fail: {found.name} is never above "
            f"{format_quantity(found.ceiling, found.unit)}"
        )
    return Limit(found, allowed, str(value))


def _did_you_mean(name: str, choices: tuple[str, ...], prefix: str) -> str:
    near = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean [{prefix}{near[0]}]?)" if near else ""


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
