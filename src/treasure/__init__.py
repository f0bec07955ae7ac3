"""treasure: replay captured event traffic through YAML parser backends and measure it."""

from treasure._version import __version__

__all__ = ["__version__"]
