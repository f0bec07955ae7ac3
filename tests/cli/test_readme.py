"""README.md's commands run as pasted: the tour, then every other fenced `treasure ...`
command, in the order the README shows them, in one working directory holding a copy of the
repository's data files (as a fresh clone has them), with `.venv` activated as the tour
says. Each command's exit code is checked: 0, or 4 where the README says a gate exits 4."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
COPIED = ("recordings", "scenarios", "treasure.toml", "pyproject.toml")
RUN_TIMEOUT_S = 600
LISTEN_TIMEOUT_S = 60
# The session model's examples trace every message under memray while thousands of users'
# trees are held: 20 s to minutes each, past what `make test` may spend. They are run by hand
# to measure the figures the README quotes beside them.
LONG_SECTIONS = ("The session model",)


@dataclass(frozen=True)
class Command:
    line: str  # as pasted, comment included
    section: str  # the README heading it stands under

    @property
    def may_exit_4(self) -> bool:
        return "exit 4" in self.line

    @property
    def serves(self) -> bool:
        """A server runs until it is stopped: the test starts it, then stops it."""
        return self.line.startswith("treasure serve ")


def shell_commands(text: str) -> list[Command]:
    """Every `treasure`/`source` line of the README's unlabelled or `sh` fenced blocks."""
    commands = []
    for match in FENCE.finditer(text):
        if match.group(1) not in ("", "sh", "console", "bash"):
            continue
        section = _heading_before(text, match.start())
        commands += [
            Command(line, section)
            for line in match.group(2).splitlines()
            if line.startswith(("treasure ", "source .venv/bin/activate", ".venv/bin/treasure "))
        ]
    return commands


def python_examples(text: str, section: str) -> list[str]:
    """The `python` blocks under one heading (the library API's runnable examples)."""
    return [
        match.group(2)
        for match in FENCE.finditer(text)
        if match.group(1) == "python" and _heading_before(text, match.start()) == section
    ]


def _heading_before(text: str, offset: int) -> str:
    headings = re.findall(r"^#+ (.+)$", text[:offset], re.M)
    return headings[-1] if headings else ""


def test_the_readme_shows_a_tour_that_names_the_venv() -> None:
    commands = shell_commands(README.read_text("utf-8"))
    tour = [c for c in commands if c.section == "A five-minute tour"]
    assert tour[0].line.startswith("source .venv/bin/activate")
    assert {c.line.split()[1] for c in tour[1:]} >= {
        "generate", "inspect", "import", "backends", "replay", "compare", "report", "gate",
    }  # fmt: skip
    # the capture the tour imports is shipped
    imported = next(c for c in tour if c.line.startswith("treasure import"))
    assert (ROOT / imported.line.split()[2]).is_file()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory laid out as a fresh clone after `make install`."""
    where = tmp_path_factory.mktemp("clone")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=shutil.ignore_patterns("generated"))
        else:
            shutil.copy2(source, where / name)
    shutil.copy2(README, where / "README.md")
    (where / ".venv").symlink_to(Path(sys.prefix))  # the venv `make install` made
    return where


def test_every_readme_command_runs_as_pasted(clone: Path) -> None:
    # given the README's commands, in order
    commands = [
        c
        for c in shell_commands(README.read_text("utf-8"))
        if c.section not in LONG_SECTIONS and not c.serves
    ]
    # when they run one after another in one shell, as a reader pasting them would
    codes = _run_in_one_shell([c.line for c in commands], clone)
    # then each exits 0, or 4 where the README says a gate exits 4 when a budget breaks
    assert len(codes) == len(commands), "the shell stopped early"
    for command, (code, output) in zip(commands, codes, strict=True):
        allowed = {0, 4} if command.may_exit_4 else {0}
        assert code in allowed, f"{command.line!r} exited {code}:\n{output[-3000:]}"
    # and the files the tour promises exist
    for made in ("runs/blowup-12k.trec", "runs/captured.trec", "runs/cmp.json", "runs/report.html"):
        assert (clone / made).is_file(), made


def test_every_readme_server_listens_and_stops_on_sigterm(clone: Path) -> None:
    servers = [c for c in shell_commands(README.read_text("utf-8")) if c.serves]
    if not servers:
        pytest.skip("README.md shows no server")
    for command in servers:
        # given a server command as pasted, in a shell with the venv activated
        server = subprocess.Popen(
            ["bash", "-c", f"source .venv/bin/activate && exec {command.line}"],
            cwd=clone,
            env=_shell_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # when it says it listens, and is then sent SIGTERM
            assert server.stdout is not None
            ready, _, _ = select.select([server.stdout], [], [], LISTEN_TIMEOUT_S)
            assert ready, f"{command.line!r} said nothing in {LISTEN_TIMEOUT_S} s"
            first = server.stdout.readline()
            assert "listening on" in first, first
            server.send_signal(signal.SIGTERM)
            # then it stops cleanly
            assert server.wait(timeout=30) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def test_library_examples_run(clone: Path) -> None:
    examples = python_examples(README.read_text("utf-8"), "Library API")
    if not examples:
        pytest.skip("README.md has no Library API example yet")
    for example in examples:
        done = subprocess.run(
            [sys.executable, "-c", example],
            cwd=clone,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]


def _run_in_one_shell(lines: list[str], cwd: Path) -> list[tuple[int, str]]:
    """Run each line in one bash session (so `source` carries on); each line's exit code
    and output are written to numbered files beside it."""
    logs = cwd / ".readme-logs"
    logs.mkdir(exist_ok=True)
    # the line stands alone inside { }, so its own comment ends at the newline and `source`
    # still runs in this shell
    script = "".join(
        f"{{\n{line}\n}} > {logs}/{index}.out 2>&1\necho $? > {logs}/{index}.code\n"
        for index, line in enumerate(lines)
    )
    subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=_shell_env(), timeout=RUN_TIMEOUT_S * 2, check=False
    )
    results = []
    for index in range(len(lines)):
        code_file = logs / f"{index}.code"
        if not code_file.exists():
            break
        output = (logs / f"{index}.out").read_text(errors="replace")
        results.append((int(code_file.read_text()), output))
    return results


def _shell_env() -> dict[str, str]:
    """A reader's fresh shell: the venv is not on PATH until `source .venv/bin/activate`."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env["COLUMNS"] = "100"
    return env
