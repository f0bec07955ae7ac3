"""Probes that measure a replay pass: heap per message (memray) lives in `heap`."""
