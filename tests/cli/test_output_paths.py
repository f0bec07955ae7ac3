"""Every command that writes a file refuses to replace anything but a regular file, and
every bad input file or output path is one line with exit 3, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.builders import KIB
from tests.cli.test_gate_cli import run_of, saved

from treasure.cli import cli
from treasure.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "recordings" / "smoke.trec"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "treasure.toml").write_text('[budgets]\nheap_peak_p50 = "32 KiB"\n')
    saved(tmp_path / "run.json", run_of("lean", 16 * KIB))
    (tmp_path / "events.yaml").write_text("event_type: move\nplayer_id: p-1\n")
    return tmp_path


# each: the arguments that write to OUT
WRITERS: dict[str, Callable[[str], list[str]]] = {
    "replay -o": lambda out: ["replay", str(SMOKE), "-b", "pyyaml-dom", "-o", out],
    "compare -o": lambda out: ["compare", str(SMOKE), "-b", "pyyaml-dom", "-o", out],
    "report -o": lambda out: ["report", "run.json", "-o", out],
    "gate --junit": lambda out: ["gate", "run.json", "--junit", out],
    "gate --markdown": lambda out: ["gate", "run.json", "--markdown", out],
    "baseline save -o": lambda out: ["baseline", "save", "run.json", "-o", out],
    "generate -o": lambda out: ["generate", "smoke", "-o", out],
    "import -o": lambda out: ["import", "events.yaml", "-o", out],
}


def nodes(workdir: Path) -> dict[str, Path]:
    (workdir / "kept.txt").write_text("keep me")
    (workdir / "link").symlink_to(workdir / "kept.txt")
    os.mkfifo(workdir / "fifo")
    return {"a symbolic link": workdir / "link", "a FIFO": workdir / "fifo",
            "a character device": Path("/dev/full")}  # fmt: skip


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_command_replaces_a_symlink_fifo_or_device(workdir: Path, writer: str) -> None:
    for kind, node in nodes(workdir).items():
        before = os.lstat(node)

        outcome = CliRunner().invoke(cli, WRITERS[writer](str(node)))

        assert outcome.exit_code == ExitCode.BAD_INPUT, (kind, outcome.output)
        assert outcome.stderr == (
            f"Error: refusing to write {node}: it is {kind}, not a regular file "
            "(treasure only replaces regular files)\n"
        )
        after = os.lstat(node)
        assert (after.st_ino, after.st_mode, after.st_rdev) == (
            before.st_ino, before.st_mode, before.st_rdev)  # fmt: skip
    assert (workdir / "kept.txt").read_text() == "keep me"


@pytest.mark.parametrize("writer", ["report -o", "gate --junit", "baseline save -o", "generate -o"])
def test_an_impossible_output_path_is_one_line(workdir: Path, writer: str) -> None:
    (workdir / "plain").write_text("x")
    out = workdir / "plain" / "out"

    outcome = CliRunner().invoke(cli, WRITERS[writer](str(out)))

    assert outcome.exit_code == ExitCode.BAD_INPUT, outcome.output
    assert outcome.stderr == f"Error: cannot write {out}: Not a directory\n"


def deep_result(path: Path, depth: int = 100_000) -> Path:
    path.write_text('{"schema_version": 1, "kind": "run", "x": ' + "[" * depth + "]" * depth + "}")
    return path


@pytest.mark.parametrize("command", ["report", "gate"])
def test_a_deeply_nested_result_is_one_line(workdir: Path, command: str) -> None:
    deep = deep_result(workdir / "deep.json")

    outcome = CliRunner().invoke(cli, [command, str(deep)])

    assert outcome.exit_code == ExitCode.BAD_INPUT, outcome.output
    assert outcome.stderr == f"Error: {deep}: not a treasure result (nested too deeply)\n"


def test_a_budget_file_that_is_not_utf8_is_one_line(workdir: Path) -> None:
    budgets = workdir / "latin1.toml"
    budgets.write_bytes('[budgets]\n# caf\u00e9\nheap_peak_p50 = "32 KiB"\n'.encode("latin-1"))

    outcome = CliRunner().invoke(cli, ["gate", "run.json", "--budgets", str(budgets)])

    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert outcome.stderr == f"Error: {budgets}: not UTF-8 text (byte 15 is 0xe9)\n"
