"""Hostile test backends, importable as `tests.hostile.backends:Class` by a real worker
process: each breaks the contract or its process in one known way."""
