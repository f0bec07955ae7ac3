"""Typed, versioned run results: what replay writes and compare, report and gate read.

Every figure is an integer in base units (nanoseconds, bytes) unless its name says
otherwise. A result file holds one `RunResult` or one `CompareResult`, told apart by `kind`.

The modules, by what they describe (every name is re-exported here):
- `config`: `ReplayConfig`, how a run is made, with its defaults and checks;
- `figures`: what one pass measured (latency, GC, RSS, heap, CPU distributions);
- `target`: what a run against a live service measured;
- `run`: `RunResult`, one backend's run, with its recording and host;
- `compare`: `CompareResult`, several backends' runs, and `Result`, either of them;
- `storage`: result files (save, load);
- `schema`: the JSON Schema of a result file (`make schema`).
"""

from __future__ import annotations

from treasure.results.compare import CompareResult, Result, runs_of
from treasure.results.config import (
    DEFAULT_CPU_RATE_HZ,
    DEFAULT_HEAP_MESSAGES,
    DEFAULT_START_TIMEOUT_S,
    DEFAULT_WARMUP,
    TRANSPORTS,
    Keep,
    ReplayConfig,
)
from treasure.results.figures import (
    CpuSummary,
    Distribution,
    ErrorSample,
    GcSummary,
    HeapSummary,
    LatencySummary,
    RssSummary,
)
from treasure.results.run import SCHEMA_VERSION, HostInfo, RecordingInfo, RunResult
from treasure.results.schema import documented_schema, json_schema, schema_shape, schema_text
from treasure.results.storage import load, loads, save, to_json
from treasure.results.target import TargetFigures, TargetProcess

__all__ = [
    "DEFAULT_CPU_RATE_HZ",
    "DEFAULT_HEAP_MESSAGES",
    "DEFAULT_START_TIMEOUT_S",
    "DEFAULT_WARMUP",
    "SCHEMA_VERSION",
    "TRANSPORTS",
    "CompareResult",
    "CpuSummary",
    "Distribution",
    "ErrorSample",
    "GcSummary",
    "HeapSummary",
    "HostInfo",
    "Keep",
    "LatencySummary",
    "RecordingInfo",
    "ReplayConfig",
    "Result",
    "RssSummary",
    "RunResult",
    "TargetFigures",
    "TargetProcess",
    "documented_schema",
    "json_schema",
    "load",
    "loads",
    "runs_of",
    "save",
    "schema_shape",
    "schema_text",
    "to_json",
]
