"""pytest plugin: heap budgets as markers, so a team's own test suite holds the gate.

    @pytest.mark.limit_heap_per_message(
        "32 KiB", backend="rust-serde", recording="recordings/smoke.trec", metric="peak_p99"
    )
    def test_router_heap() -> None: ...

After the test body passes, the backend replays the first `messages` frames of the recording
under memray (the same heap pass as `treasure replay --heap`, in a fresh subprocess) and the
test fails when the metric is over the limit, or when the heap could not be measured.
Runs are shared between markers naming the same backend, recording and settings.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import pytest

from treasure.errors import TreasureError
from treasure.metrics import METRICS, Metric, Unmeasured
from treasure.quantities import format_quantity, parse_quantity
from treasure.results import ReplayConfig, RunResult

MARKER = "limit_heap_per_message"
_MARKER_HELP = (
    f"{MARKER}(limit, *, backend, recording, metric='peak_p50', messages=500, warmup=50, "
    "users=0, keep='nothing'): fail when the backend's heap per message on the recording "
    "is over the limit (e.g. '32 KiB'); metric: peak_|allocated_|retained_|amplification_ "
    "+ p50|p90|p99|max|mean, or peak_heap_at_users"
)
_ALLOWED_KWARGS = {"backend", "recording", "metric", "messages", "warmup", "users", "keep"}
Keep = Literal["nothing", "record", "document"]


@dataclass(frozen=True)
class HeapBudget:
    metric: Metric
    allowed: float
    written: str
    backend: str
    recording: Path
    messages: int
    warmup: int
    users: int
    keep: Keep

    @property
    def run_key(self) -> tuple[object, ...]:
        return (self.backend, self.recording, self.messages, self.warmup, self.users, self.keep)


_BUDGETS = pytest.StashKey[list[HeapBudget]]()
_RUNS = pytest.StashKey[dict[tuple[object, ...], RunResult]]()
_CAPTURES = pytest.StashKey["Captures"]()
_VERDICTS = pytest.StashKey[list[str]]()


@dataclass
class Captures:
    """Where the session's heap captures go (~1 MB each): removed at the end unless a broken
    budget's failure message points into them."""

    root: Path
    keep: bool = False

    def remove(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    config.stash[_RUNS] = {}
    config.stash[_VERDICTS] = []


def pytest_unconfigure(config: pytest.Config) -> None:
    captures = config.stash.get(_CAPTURES, None)
    if captures is not None:
        captures.remove()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every heap budget judged in the session, with the figure measured for it."""
    verdicts = terminalreporter.config.stash.get(_VERDICTS, [])
    if verdicts:
        terminalreporter.section("treasure heap budgets")
        for line in verdicts:
            terminalreporter.write_line(line)


def heap_metric(name: str) -> Metric:
    """`peak_p50` or `heap_peak_p50`, `amplification_p99`, `peak_heap_at_users`."""
    for candidate in (name, f"heap_{name}"):
        found = METRICS.get(candidate)
        if found is not None and candidate.startswith(("heap_", "amplification_", "peak_heap")):
            return found
    raise ValueError(f"metric={name!r} is not a heap metric (e.g. peak_p50, allocated_p99)")


def budget_of(marker: pytest.Mark, rootpath: Path) -> HeapBudget:
    """The marker's budget; ValueError naming what is wrong with its arguments."""
    unknown = sorted(set(marker.kwargs) - _ALLOWED_KWARGS)
    if unknown:
        raise ValueError(f"unknown argument {unknown[0]!r}")
    if len(marker.args) != 1 or "backend" not in marker.kwargs or "recording" not in marker.kwargs:
        raise ValueError('write it as ("32 KiB", backend="...", recording="...")')
    metric = heap_metric(str(marker.kwargs.get("metric", "peak_p50")))
    written = marker.args[0]
    allowed = parse_quantity(written, metric.unit)
    recording = Path(marker.kwargs["recording"])
    keep = marker.kwargs.get("keep", "nothing")
    if keep not in ("nothing", "record", "document"):
        raise ValueError(f"keep={keep!r}: expected nothing, record or document")
    return HeapBudget(
        metric=metric,
        allowed=allowed,
        written=str(written),
        backend=str(marker.kwargs["backend"]),
        recording=recording if recording.is_absolute() else rootpath / recording,
        messages=int(marker.kwargs.get("messages", 500)),
        warmup=int(marker.kwargs.get("warmup", 50)),
        users=int(marker.kwargs.get("users", 0)),
        keep=cast(Keep, keep),
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    budgets = []
    for marker in item.iter_markers(MARKER):
        try:
            budgets.append(budget_of(marker, item.config.rootpath))
        except ValueError as exc:
            pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    item.stash[_BUDGETS] = budgets


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    outcome = yield  # the test body first: its own failure wins
    for budget in item.stash.get(_BUDGETS, []):
        try:
            run = heap_run(item.config, budget)
        except TreasureError as exc:  # unknown backend, missing recording: one line
            pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
        verdict = judge(budget, run)
        item.config.stash[_VERDICTS].append(f"{item.nodeid}: {measured_line(budget, run)}")
        if verdict:
            item.config.stash[_CAPTURES].keep = True
            pytest.fail(verdict, pytrace=False)
    return outcome


def read_budget(budget: HeapBudget, run: RunResult) -> tuple[str, float | None, str]:
    """Where the budget applies, the figure measured for it (None: not measured), and why
    it was not."""
    where = f"{budget.metric.title} of {budget.backend} on {budget.recording.name}"
    try:
        return where, budget.metric.read(run), ""
    except Unmeasured as exc:
        return where, None, exc.reason


def measured_line(budget: HeapBudget, run: RunResult) -> str:
    """`heap per message, peak p50 of X on Y: measured 1.2 KiB <= allowed 32.0 KiB`."""
    where, measured, reason = read_budget(budget, run)
    if measured is None:
        return f"{where}: not measured ({reason})"
    sign = "<=" if measured <= budget.allowed else ">"
    unit = budget.metric.unit
    return (
        f"{where}: measured {format_quantity(measured, unit)} {sign} "
        f"allowed {format_quantity(budget.allowed, unit)}"
    )


def captures_dir(config: pytest.Config) -> Path:
    if _CAPTURES not in config.stash:
        config.stash[_CAPTURES] = Captures(Path(tempfile.mkdtemp(prefix="treasure-heap-")))
    return config.stash[_CAPTURES].root


def heap_run(config: pytest.Config, budget: HeapBudget) -> RunResult:
    """The heap pass of this budget's backend and recording, run once per session."""
    runs = config.stash.setdefault(_RUNS, {})
    if budget.run_key not in runs:
        from treasure import api

        if not budget.recording.is_file():
            raise TreasureError(f"recording not found: {budget.recording}")

        replay = ReplayConfig(
            backend=budget.backend,
            recording=str(budget.recording),
            limit=budget.messages,
            warmup=budget.warmup,
            users=budget.users,
            keep=budget.keep,
            heap=True,
            heap_messages=budget.messages,
            artefacts=tempfile.mkdtemp(dir=captures_dir(config)),
        )
        runs[budget.run_key] = api.replay(config=replay)
    return runs[budget.run_key]


def judge(budget: HeapBudget, run: RunResult) -> str:
    """Empty when the budget holds; otherwise the failure, read like an assertion."""
    where, measured, reason = read_budget(budget, run)
    if measured is None:
        return f"heap budget not measured: {where}: {reason}"
    if measured <= budget.allowed:
        return ""
    traced = run.heap.traced_messages if run.heap else 0
    artefacts = run.heap.artefacts if run.heap else {}
    capture = artefacts.get("memray_flamegraph") or next(iter(artefacts.values()), "")
    return (
        f"heap budget broken: {where}: measured {format_quantity(measured, budget.metric.unit)} "
        f"> allowed {format_quantity(budget.allowed, budget.metric.unit)} "
        f"({budget.written!r}, {traced} messages traced)" + (f"; see {capture}" if capture else "")
    )
