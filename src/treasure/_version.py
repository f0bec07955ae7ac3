"""The installed distribution's version, in the lowest layer so that every module may read it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("treasure")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
