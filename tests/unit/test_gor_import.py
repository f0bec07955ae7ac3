"""GoReplay `.gor` captures into recordings: requests only, the body as the payload, the
header's timestamp, the user id by field path, and the routing spec in the header."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from treasure.cli import cli
from treasure.importers import GOR_SEPARATOR, ImportOptions, SourceError, import_sources
from treasure.recordings import open_recording

FIXTURE = Path(__file__).parents[1] / "fixtures" / "requests.gor"  # checked by hand


def _frames(path: Path) -> list[tuple[int, str, bytes]]:
    with open_recording(path) as reader:
        return [(frame.timestamp_ns, frame.user_id, frame.payload) for frame in reader]


def test_the_hand_checked_fixture_imports_its_two_requests(tmp_path: Path) -> None:
    # given a capture of two requests and one response (the response is not a message)
    out = tmp_path / "g.trec"
    # when imported with a user path and a routing spec
    done = CliRunner().invoke(
        cli, ["import", str(FIXTURE), "-o", str(out), "--route", "kind, actor.id,sid",
              "--user-path", "actor.id"],
    )  # fmt: skip
    # then each request body is one message, with its timestamp and user
    assert done.exit_code == 0, done.output
    assert _frames(out) == [
        (1717171717000000000, "u-1", b"kind: login\nactor: {id: u-1}\nsid: s-1\n"),
        (1717171717250000000, "u-2", b"kind: move\nactor:\n  id: u-2\nsid: s-2\npos: [1, 2]\n"),
    ]
    with open_recording(out) as reader:
        assert reader.header.metadata["routing"] == "kind,actor.id,sid"


def test_a_written_capture_round_trips_and_a_hostile_body_gets_no_user(tmp_path: Path) -> None:
    bodies = [b"kind: k\nactor: {id: u-%d}\n" % i for i in range(5)] + [b"!!python/none x\n"]
    records = [
        b"1 %d %d 0\nPOST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (i, 1000 * i, len(b), b)
        for i, b in enumerate(bodies)
    ]
    source = tmp_path / "c.gor"
    source.write_bytes(b"".join(record + b"\n" + GOR_SEPARATOR for record in records))
    summary = import_sources(
        [source], tmp_path / "c.trec", options=ImportOptions(user_path="actor.id")
    )
    assert summary.frames == 6
    frames = _frames(tmp_path / "c.trec")
    assert [payload for _, _, payload in frames] == bodies
    assert [user for _, user, _ in frames] == [f"u-{i}" for i in range(5)] + ["unknown"]
    assert [ts for ts, _, _ in frames] == [1000 * i for i in range(6)]


def test_a_record_without_a_header_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "bad.gor"
    source.write_bytes(b"1 x\nPOST / HTTP/1.1\r\n\r\nkind: k\n\n" + GOR_SEPARATOR)
    with pytest.raises(SourceError, match=r"bad\.gor:1: not a GoReplay header"):
        import_sources([source], tmp_path / "bad.trec")
