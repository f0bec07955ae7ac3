"""Safe output files: every file treasure writes goes through here.

A write goes to a temporary file in the target's own directory and is renamed over the
target only once it is whole, so a crash or a full disk leaves the previous file as it
was, never half of a new one. Only regular files are ever replaced: a symlink, FIFO,
device, socket or directory at the target is refused (as root, writing "over" /dev/full
would otherwise replace the device with a regular file). Every failure is one
`OutputError` line naming the path, never an OSError traceback.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType

from treasure.errors import TreasureError

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: new files get the permissions open(2) would have given them

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class OutputError(TreasureError):
    """An output path treasure must not or cannot write: one line, exit 3."""


def kind_of(mode: int) -> str:
    """What a file of `mode` is, as an error names it (\"a FIFO\")."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_output(path: Path) -> None:
    """Raise OutputError unless `path` is absent or a regular file (symlinks are refused,
    not followed: replacing one would cut the link, writing through it is a surprise)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise OutputError(
            f"refusing to write {path}: it is {kind_of(mode)}, not a regular file "
            "(treasure only replaces regular files)"
        )


class AtomicOutput:
    """A file written under a temporary name beside `path`, renamed over it on `commit`.

    `suffix` names the temporary file, so one left by a killed process says what it is
    (recordings use `.incomplete`).
    """

    def __init__(self, path: str | os.PathLike[str], *, suffix: str = ".tmp") -> None:
        self.path = Path(path)
        check_output(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=suffix
            )
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None
        self.fd: int | None = fd
        self.temporary = Path(name)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666 & ~_UMASK)

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def write(self, data: bytes) -> None:
        if self.fd is None:
            raise ValueError(f"{self.path}: written after commit or abort")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None

    def commit(self) -> None:
        """Make the file durable, then put it in place of `path` in one rename."""
        if self.fd is None:
            return
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            check_output(self.path)  # a node put there while we wrote is not replaced either
            os.replace(self.temporary, self.path)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None
        except OutputError:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the temporary file; `path` stays as it was."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` atomically; OutputError on a bad path or a failed write."""
    with AtomicOutput(path) as out:
        out.write(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def append_text(path: str | os.PathLike[str], text: str) -> None:
    """Append to an existing file a CI gave us (e.g. $GITHUB_STEP_SUMMARY); one line on error."""
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise OutputError(f"cannot append to {path}: {exc.strerror}") from None
