"""treasure: replay captured event traffic through YAML parser backends and measure it.

`treasure.replay(...)`, `treasure.compare(...)`, `treasure.soak(...)` and
`treasure.sweep(...)` are the library API (`treasure.api`); they are imported on first use,
so that `import treasure` stays light for every process.
"""

from typing import Any

from treasure._version import __version__

_API = ("replay", "compare", "soak", "sweep", "ReplayConfig", "RunResult", "CompareResult",
        "SoakConfig", "SweepResult", "load")  # fmt: skip

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from treasure import api, results

        return getattr(api, name, None) or getattr(results, name)
    raise AttributeError(f"module 'treasure' has no attribute {name!r}")
