"""A comparison: the runs of several backends over one recording, and `Result`, what a result
file holds (one run or one comparison, told apart by `kind`)."""

from __future__ import annotations

import msgspec

from treasure.interleaved import InterleavedRounds
from treasure.results.config import ReplayConfig
from treasure.results.run import SCHEMA_VERSION, RecordingInfo, RunResult


class CompareResult(msgspec.Struct, kw_only=True, tag_field="kind", tag="compare"):
    schema_version: int = SCHEMA_VERSION
    created_at: str
    recording: RecordingInfo
    baseline: str  # the backend the ratios are against, as its runs name it
    baseline_requested: str = ""  # --baseline as given (a name or module:Class)
    baseline_note: str = ""  # why `baseline` differs from what was asked for, if it does
    runs: list[RunResult]
    failed: dict[str, str] = {}  # backend -> why its pass failed
    backends: list[str] = []  # as requested, in order: with `config`, enough to rerun it
    config: ReplayConfig | None = None  # the options every backend ran with (backend "")
    complete: bool = False  # every backend was run; False in the copies saved along the way
    rounds: InterleavedRounds | None = None  # the backends timed again in interleaved rounds


Result = RunResult | CompareResult


def runs_of(result: Result) -> list[RunResult]:
    return list(result.runs) if isinstance(result, CompareResult) else [result]
