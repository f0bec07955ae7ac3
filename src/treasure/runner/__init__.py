"""Runs: one backend's passes merged into a RunResult (`replay`), several backends side by
side (`compare`). Above the passes, below the library API and the CLI."""
