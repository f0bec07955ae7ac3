"""A plugin module that never finishes importing."""

import time

time.sleep(3600)


class NeverLoaded:  # pragma: no cover - the import above never returns
    pass
