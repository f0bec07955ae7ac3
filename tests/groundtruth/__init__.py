"""Test-only backends that spend, allocate or retain exactly known amounts."""
