"""User-facing errors and the documented exit codes of the `treasure` command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of `treasure` (documented in README.md)."""

    OK = 0
    FAILURE = 1  # an unexpected failure: a bug in treasure or its environment
    USAGE = 2  # bad command line (click's own code for usage errors)
    BAD_INPUT = 3  # missing or unreadable file, corrupt recording, bad scenario, unknown backend
    BUDGET_BROKEN = 4  # `treasure gate`: at least one budget or regression check failed
    TARGET_FAILED = 5  # a replay subprocess or backend died, or --fail-fast stopped a run


class TreasureError(Exception):
    """An error a user can cause and fix: printed as one line, never as a traceback."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(TreasureError, ValueError):
    """A replay option out of its range (`field` names it): a command-line error. A
    ValueError too, so that msgspec reports a bad config inside a result file as invalid."""

    exit_code = ExitCode.USAGE

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class RecordingError(TreasureError):
    """A recording that cannot be read: wrong magic, unknown version, corrupt frame."""


class ScenarioError(TreasureError):
    """A scenario file that does not describe a valid workload."""


class BackendError(TreasureError):
    """An unknown, unavailable or broken parser backend."""


class BudgetError(TreasureError):
    """A budget file that cannot be read: bad TOML, unknown metric, a value without a unit."""


class ResultError(TreasureError):
    """A results file that is missing, of the wrong schema version, or not a result."""


class TargetError(TreasureError):
    """A replay pass whose subprocess died or stopped early."""

    exit_code = ExitCode.TARGET_FAILED
