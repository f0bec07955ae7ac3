"""Every command's mistakes exit with README.md's codes: 2 for a bad command line, 3 for bad
input (a missing or unreadable file, a corrupt recording, an unknown backend or scenario, a
file that is not a treasure result), with one line saying what is wrong and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EVENT_MESSAGE

from treasure.cli import cli
from treasure.errors import ExitCode
from treasure.recordings import RecordingWriter

USAGE, BAD_INPUT = ExitCode.USAGE, ExitCode.BAD_INPUT

# (command line, expected exit code, a word the one-line error must contain)
MISTAKES = [
    (["generate", "no-such-scenario", "-o", "out.trec"], BAD_INPUT, "no-such-scenario"),
    (["generate", "smoke"], USAGE, "--output"),
    (["generate", "smoke", "-o", "out.trec", "--count", "0"], USAGE, "--count"),
    (["import", "missing.yaml", "-o", "out.trec"], BAD_INPUT, "missing.yaml"),
    (["import", "a-directory", "-o", "out.trec"], BAD_INPUT, "a-directory"),
    (["import", "capture.yaml", "-o", "out.trec", "--rate", "0"], USAGE, "--rate"),
    (["import", "empty.yaml", "-o", "out.trec"], BAD_INPUT, "no message found"),
    (["inspect", "missing.trec"], BAD_INPUT, "missing.trec"),
    (["inspect", "corrupt.trec"], BAD_INPUT, "corrupt.trec"),
    (["inspect"], USAGE, "RECORDING"),
    (["backends", "--no-such-option"], USAGE, "--no-such-option"),
    (["replay", "missing.trec"], BAD_INPUT, "missing.trec"),
    (["replay", "corrupt.trec"], BAD_INPUT, "corrupt.trec"),
    (["replay", "good.trec", "-b", "no-such-backend"], BAD_INPUT, "no-such-backend"),
    (["replay", "good.trec", "--limit", "0"], USAGE, "--limit"),
    (["replay", "good.trec", "--keep", "everything"], USAGE, "--keep"),
    (["replay", "good.trec", "--pace", "warp"], USAGE, "--pace"),
    (["compare", "good.trec", "--pace", "rate:fast"], USAGE, "--pace"),
    (["compare", "missing.trec"], BAD_INPUT, "missing.trec"),
    (["compare", "good.trec", "-b", "pyyaml-dom,no-such-backend"], BAD_INPUT, "no-such-backend"),
    (["report", "missing.json"], BAD_INPUT, "missing.json"),
    (["report", "not-a-result.json"], BAD_INPUT, "not a treasure result"),
    (["report", "other-version.json"], BAD_INPUT, "schema version"),
    (["report"], USAGE, "RESULTS"),
    (["gate", "missing.json", "--budgets", "budgets.toml"], BAD_INPUT, "missing.json"),
    (["gate", "not-a-result.json", "--budgets", "budgets.toml"], BAD_INPUT, "not a treasure"),
    (["gate", "other-version.json", "--budgets", "budgets.toml"], BAD_INPUT, "schema version"),
    (["gate", "other-version.json", "--budgets", "missing.toml"], BAD_INPUT, "missing.toml"),
    (["gate", "other-version.json", "--budgets", "bad-budgets.toml"], BAD_INPUT, "latency_p99"),
    (["gate", "other-version.json"], BAD_INPUT, "no budgets"),
    (["baseline", "save", "missing.json", "-o", "base.json"], BAD_INPUT, "missing.json"),
    (["baseline", "save", "not-a-result.json"], USAGE, "--output"),
    (["baseline", "update", "missing.json", "-o", "base.json"], BAD_INPUT, "missing.json"),
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory holding one of each file the mistakes name."""
    with RecordingWriter(tmp_path / "good.trec", metadata={"scenario": "test"}) as writer:
        for index in range(10):
            writer.write(index * 1000, f"u-{index}", EVENT_MESSAGE)
    (tmp_path / "corrupt.trec").write_bytes(b"this is not a recording at all\n" * 4)
    (tmp_path / "capture.yaml").write_bytes(EVENT_MESSAGE)
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "not-a-result.json").write_text('{"hello": "world"}\n')
    (tmp_path / "other-version.json").write_text('{"schema_version": 999, "kind": "run"}\n')
    (tmp_path / "budgets.toml").write_text("[budgets]\nerror_rate = '0%'\n")
    (tmp_path / "bad-budgets.toml").write_text("[budgets]\nlatency_p99 = 12\n")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected", "named"), MISTAKES, ids=[" ".join(m[0]) for m in MISTAKES]
)
def test_each_mistake_exits_with_the_documented_code(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: int, named: str
) -> None:
    # given a working directory with good, missing, corrupt and foreign files
    monkeypatch.chdir(workdir)
    # when the command is run with the mistake
    done = CliRunner().invoke(cli, args)
    # then it exits with README.md's code, saying what is wrong in one line, no traceback
    assert done.exit_code == expected, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "Traceback" not in done.output
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, done.stderr
    assert named.lower() in done.stderr.lower()
