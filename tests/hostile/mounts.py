"""A small file system of a test's own, to fill for real: a tmpfs mounted in a private
mount namespace (`unshare -rm`: no root needed where user namespaces are allowed, nothing
left mounted afterwards)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path


@functools.cache
def private_mounts() -> bool:
    """Whether this machine lets a test mount a tmpfs of its own."""
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def on_small_disk(folder: Path, size: str, command: list[str]) -> list[str]:
    """`command`, run with `folder` the mount point of a fresh tmpfs of `size` (e.g. 64k)."""
    script = f'mount -t tmpfs -o size={size} tmpfs "{folder}" && exec "$@"'
    return ["unshare", "-rm", "sh", "-c", script, "sh", *command]
