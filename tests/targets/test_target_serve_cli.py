"""`treasure serve`'s user errors: one line and a documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from treasure.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_serve_needs_exactly_one_listening_address(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["serve", "pyyaml-dom", "--unix", str(tmp_path / "s"), "--tcp", "127.0.0.1:0"]
    )
    assert result.exit_code == 2
    assert "exactly one of --unix" in result.output


def test_serve_refuses_an_unknown_backend(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["serve", "no-such-backend", "--unix", str(tmp_path / "s")])
    assert result.exit_code == 3
    assert "unknown backend 'no-such-backend'" in result.output
    assert "Traceback" not in result.output


def test_serve_says_when_it_cannot_listen(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["serve", "pyyaml-dom", "--unix", str(tmp_path / "no" / "s")])
    assert result.exit_code == 3
    assert "cannot listen on --unix" in result.output


def test_serve_refuses_a_bad_port(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "pyyaml-dom", "--tcp", "127.0.0.1:http"])
    assert result.exit_code == 3
    assert "use HOST:PORT" in result.output
