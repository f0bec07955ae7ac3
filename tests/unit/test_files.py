"""Safe output files: atomic replacement of regular files, refusal of every other node."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.hostile.mounts import on_small_disk, private_mounts

from treasure.errors import ExitCode
from treasure.files import AtomicOutput, OutputError, check_output, write_bytes


def test_a_new_file_and_a_replaced_one_are_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "out.json"
    write_bytes(path, b"first")
    write_bytes(path, b"second")

    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.json"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def special_nodes(tmp_path: Path) -> dict[str, Path]:
    target = tmp_path / "target.json"
    target.write_bytes(b"keep me")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    server.close()
    directory = tmp_path / "dir"
    directory.mkdir()
    return {
        "a symbolic link": link,
        "a FIFO": fifo,
        "a socket": sock_path,
        "a directory": directory,
        "a character device": Path("/dev/full"),
    }


def test_nothing_but_a_regular_file_is_ever_replaced(tmp_path: Path) -> None:
    for kind, node in special_nodes(tmp_path).items():
        before = os.lstat(node)

        with pytest.raises(OutputError) as caught:
            write_bytes(node, b"data")

        assert str(caught.value) == (
            f"refusing to write {node}: it is {kind}, not a regular file "
            "(treasure only replaces regular files)"
        )
        after = os.lstat(node)
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode), kind
    assert (tmp_path / "target.json").read_bytes() == b"keep me"
    assert not list(tmp_path.glob(".*.tmp"))


def test_an_impossible_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for path, reason in [
        (tmp_path / "file" / "out.json", "Not a directory"),
        (Path("/proc/no-such-dir/out.json"), "No such file or directory"),
        (tmp_path / ("n" * 300), "File name too long"),
    ]:
        with pytest.raises(OutputError, match=reason) as caught:
            write_bytes(path, b"data")
        assert "\n" not in str(caught.value)


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    # given an existing file and a process that may write no more than 1,000 bytes
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    script = (
        "import resource, signal, sys\n"
        "from treasure.files import write_bytes\n"
        "from treasure.errors import TreasureError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "try:\n"
        "    write_bytes(sys.argv[1], b'x' * 100_000)\n"
        "except TreasureError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(int(exc.exit_code))\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, check=False)  # fmt: skip

    # then the write fails with one line, and the old file and nothing else is there
    assert run.returncode == ExitCode.BAD_INPUT, run.stderr
    assert run.stdout == f"cannot write {path}: File too large\n"
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@pytest.mark.skipif(not private_mounts(), reason="no private mounts (unshare -rm)")
def test_a_full_disk_fails_the_write_in_one_line_and_keeps_the_old_file(tmp_path: Path) -> None:
    # given an existing file on a 64 KiB file system of its own, and 1 MiB to write there
    disk = tmp_path / "disk"
    disk.mkdir()
    path = disk / "out.bin"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from treasure.files import write_bytes\n"
        "from treasure.errors import TreasureError\n"
        "path = Path(sys.argv[1])\n"
        "path.write_bytes(b'old')\n"
        "try:\n"
        "    write_bytes(path, b'x' * 1024**2)\n"
        "except TreasureError as exc:\n"
        "    print(exc)\n"
        "    print(path.read_bytes().decode(), sorted(p.name for p in path.parent.iterdir()))\n"
        "    sys.exit(int(exc.exit_code))\n"
    )
    command = on_small_disk(disk, "64k", [sys.executable, "-c", script, str(path)])
    # when it is written (the kernel says ENOSPC)
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    # then the write fails with one line, and the old file and nothing else is there
    assert run.returncode == ExitCode.BAD_INPUT, run.stderr
    assert run.stdout == f"cannot write {path}: No space left on device\nold ['out.bin']\n"


def test_a_node_put_in_place_while_writing_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    out = AtomicOutput(path)
    out.write(b"data")
    os.mkfifo(path)

    with pytest.raises(OutputError, match="it is a FIFO"):
        out.commit()

    assert path.is_fifo()
    assert not out.temporary.exists()


def test_check_output_accepts_absent_and_regular_files(tmp_path: Path) -> None:
    (tmp_path / "there").write_text("x")
    check_output(tmp_path / "there")
    check_output(tmp_path / "absent")
