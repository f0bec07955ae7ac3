"""The measurement passes, one layer: timing, heap (memray) and CPU (py-spy), each run in a
fresh worker process (`worker`) that `launch` starts and follows. Probes sit below them;
runs (`treasure.runner`) above."""
