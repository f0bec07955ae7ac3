"""A plugin module whose import crashes the interpreter."""

import ctypes

ctypes.string_at(0)


class NeverLoaded:  # pragma: no cover - the import above never returns
    pass
