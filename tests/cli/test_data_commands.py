"""`treasure generate`, `import` and `inspect` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from treasure.cli import cli
from treasure.recordings import open_recording

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("name", ["generate", "import", "inspect"])
def test_every_data_command_has_help_with_examples(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, [name, "--help"])

    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"treasure {name} " in result.output


def test_generate_writes_the_scenario_and_is_repeatable(runner: CliRunner, tmp_path: Path) -> None:
    first, second = tmp_path / "a.trec", tmp_path / "b.trec"

    result = runner.invoke(cli, ["generate", "smoke", "-o", str(first)])
    again = runner.invoke(cli, ["generate", "smoke", "-o", str(second)])

    assert result.exit_code == 0
    assert again.exit_code == 0
    assert result.stdout.startswith("wrote 200 messages from 20 users")
    assert first.read_bytes() == second.read_bytes()


def test_generate_count_seed_and_json(runner: CliRunner, tmp_path: Path) -> None:
    output = tmp_path / "sub" / "b.trec"

    result = runner.invoke(
        cli,
        [
            "generate",
            "blowup-12k",
            "-o",
            str(output),
            "--count",
            "500",
            "--seed",
            "3",
            "--compress",
            "--json",
        ],
    )

    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert (summary["frames"], summary["seed"], summary["users"]) == (500, 3, 12_000)
    with open_recording(output) as reader:
        assert reader.header.compressed
        assert sum(1 for _ in reader) == 500


def test_generate_an_unknown_scenario_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["generate", "nope", "-o", str(tmp_path / "x.trec")])

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("Error: unknown scenario 'nope' (known: ")
    assert result.stderr.count("\n") == 1


def test_import_then_inspect_a_hostile_stream(runner: CliRunner, tmp_path: Path) -> None:
    source = ROOT / "recordings" / "sources" / "hostile-mixed.yaml"
    output = tmp_path / "hostile.trec"

    imported = runner.invoke(cli, ["import", str(source), "-o", str(output), "--json"])
    inspected = runner.invoke(cli, ["inspect", str(output), "--json"])

    assert imported.exit_code == 0
    assert json.loads(imported.stdout)["frames"] == 11
    assert inspected.exit_code == 0
    stats = json.loads(inspected.stdout)
    assert stats["frames"] == 11
    assert stats["integrity"]["ok"] is True
    assert output.read_bytes() != b""
    with open_recording(output) as reader:
        payloads = [frame.payload for frame in reader]
    assert payloads[1] == b'--- !!python/object/apply:os.system ["echo pwned"]\n'
    assert b"\xff\xfe" in payloads[3]


def test_import_reports_bad_input_with_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "cap.jsonl"
    source.write_text('{"payload": "a: 1"}\n{oops\n')

    missing = runner.invoke(cli, ["import", str(tmp_path / "gone.yaml"), "-o", "x.trec"])
    bad = runner.invoke(cli, ["import", str(source), "-o", str(tmp_path / "o.trec")])

    assert missing.exit_code == 3
    assert missing.stderr == f"Error: {tmp_path / 'gone.yaml'}: no such file\n"
    assert bad.exit_code == 3
    assert bad.stderr.startswith(f"Error: {source}:2: invalid JSON")
    assert bad.stderr.count("\n") == 1


def test_inspect_shows_the_figures(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["inspect", str(ROOT / "recordings" / "smoke.trec")])

    assert result.exit_code == 0
    assert "200 frames ok" in result.stdout
    assert "smoke" in result.stdout
    assert "100.0 msg/s" in result.stdout
    assert result.stderr == ""


def test_inspect_a_corrupt_recording_prints_what_it_read_then_fails(
    runner: CliRunner, tmp_path: Path
) -> None:
    # given a copy of the smoke recording with one payload byte flipped near the end
    data = bytearray((ROOT / "recordings" / "smoke.trec").read_bytes())
    data[-100] ^= 0x10
    damaged = tmp_path / "damaged.trec"
    damaged.write_bytes(bytes(data))

    result = runner.invoke(cli, ["inspect", str(damaged), "--json"])

    assert result.exit_code == 3
    stats = json.loads(result.stdout)
    assert stats["frames"] == 199
    assert stats["integrity"]["corrupt_frames"] == [199]
    assert result.stderr == f"Error: {damaged}: frame 199: checksum mismatch\n"


def test_inspect_a_torn_recording_shows_its_frames_then_fails(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = (ROOT / "recordings" / "smoke.trec").read_bytes()
    torn = tmp_path / "torn.trec"
    torn.write_bytes(data[:-50])  # inside the last frame (the 36-byte trailer follows it)

    result = runner.invoke(cli, ["inspect", str(torn), "--json"])

    assert result.exit_code == 3
    assert json.loads(result.stdout)["frames"] == 199
    assert result.stderr.startswith(f"Error: {torn}: incomplete: ends in a torn frame at byte ")
    assert result.stderr.endswith("; the 199 frames before it are intact\n")


def test_inspect_a_file_that_is_not_a_recording(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.trec"
    path.write_text("event_type: move\n")

    result = runner.invoke(cli, ["inspect", str(path)])

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}: not a recording (no treasure recording magic)\n"
