"""Importers: YAML streams split without parsing, JSON Lines with configurable fields."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from treasure.errors import TreasureError
from treasure.importers import (
    ImportOptions,
    SourceMessage,
    import_sources,
    read_jsonl,
    split_yaml_stream,
)
from treasure.recordings import open_recording


def split(data: bytes) -> list[SourceMessage]:
    return list(split_yaml_stream(io.BytesIO(data), "capture.yaml"))


def test_a_yaml_stream_is_split_at_markers_keeping_bytes_exact() -> None:
    # given a stream with bare and content-bearing markers, an end marker and bad bytes
    stream = (
        b"# capture\nevent_type: move\n"
        b"---\nplayer_id: p-1\r\n"
        b'--- !!python/object/apply:os.system ["id"]\n'
        b"...\n"
        b"%YAML 1.1\n---\nk: v\n"
        b"--- # only a comment on the marker\n"
        b"bad: \xff\xfe\n"
        b"---\n---\n   \n# nothing but a comment\n"
        b"---\nunclosed: [1, 2"
    )

    # when it is split
    messages = split(stream)

    # then each document is one payload, byte for byte, with its first line number
    assert [(m.line, m.payload) for m in messages] == [
        (1, b"# capture\nevent_type: move\n"),
        (4, b"player_id: p-1\r\n"),
        (5, b'--- !!python/object/apply:os.system ["id"]\n'),
        (7, b"%YAML 1.1\n---\nk: v\n"),
        (11, b"bad: \xff\xfe\n"),
        (17, b"unclosed: [1, 2"),
    ]


def test_markers_only_count_at_the_start_of_a_line() -> None:
    messages = split(b"text: |\n  --- not a marker\nkey: ---x\n----\n")

    assert [m.payload for m in messages] == [b"text: |\n  --- not a marker\nkey: ---x\n----\n"]


def jsonl(*records: object) -> io.BytesIO:
    return io.BytesIO(b"".join(json.dumps(r).encode() + b"\n" for r in records))


def test_json_lines_give_payload_timestamp_and_user() -> None:
    stream = jsonl(
        {"payload": "event_type: move\n", "ts": 1.5, "user": "p-7"},
        {"payload": "bad: \udcff\n", "ts": "2024-01-01T00:00:01+00:00"},
        {"payload": "x: 1\n"},
    )

    messages = list(read_jsonl(stream, "cap.jsonl", ImportOptions()))

    assert messages == [
        SourceMessage("cap.jsonl", 1, b"event_type: move\n", 1_500_000_000, "p-7"),
        SourceMessage("cap.jsonl", 2, b"bad: \xff\n", 1_704_067_201_000_000_000, None),
        SourceMessage("cap.jsonl", 3, b"x: 1\n", None, None),
    ]


def test_json_lines_field_names_and_unit_are_options() -> None:
    stream = jsonl({"body": "a: 1\n", "at": 1500, "sid": 42})
    options = ImportOptions(
        payload_field="body", timestamp_field="at", user_field="sid", timestamp_unit="ms"
    )

    (message,) = read_jsonl(stream, "cap.jsonl", options)

    assert (message.payload, message.timestamp_ns, message.user_id) == (
        b"a: 1\n",
        1_500_000_000,
        "42",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"payload": "a: 1"}\n{not json\n', r"^cap.jsonl:2: invalid JSON"),
        (b'["payload"]\n', r"^cap.jsonl:1: expected a JSON object, got list"),
        (b'\n{"text": "a: 1"}\n', r"^cap.jsonl:2: no text field 'payload'"),
        (b'{"payload": "a", "ts": "noon"}\n', r"^cap.jsonl:1: timestamp 'noon' is not ISO 8601"),
    ],
)
def test_bad_json_lines_name_file_and_line(content: bytes, message: str) -> None:
    with pytest.raises(TreasureError, match=message):
        list(read_jsonl(io.BytesIO(content), "cap.jsonl", ImportOptions()))


def test_import_writes_a_recording_with_found_users_and_paced_timestamps(tmp_path: Path) -> None:
    # given a YAML capture without timestamps and a JSON Lines capture with them
    yaml_source = tmp_path / "a.yaml"
    yaml_source.write_bytes(
        b"event_type: move\nplayer_id: p-000001\n---\nplayer_id: 'p-000002'\n---\n- no user\n"
    )
    jsonl_source = tmp_path / "b.jsonl"
    jsonl_source.write_bytes(b'{"payload": "k: v\\n", "ts": 5, "user": "s-9"}\n')

    # when both are imported at 100 msg/s
    output = tmp_path / "out.trec"
    summary = import_sources(
        [yaml_source, jsonl_source], output, options=ImportOptions(rate_per_s=100)
    )

    # then the recording holds every payload, its user, and a timestamp
    with open_recording(output) as reader:
        frames = [(f.timestamp_ns, f.user_id, f.payload) for f in reader]
        metadata = reader.header.metadata
    assert frames == [
        (0, "p-000001", b"event_type: move\nplayer_id: p-000001\n"),
        (10_000_000, "p-000002", b"player_id: 'p-000002'\n"),
        (20_000_000, "unknown", b"- no user\n"),
        (5_000_000_000, "s-9", b"k: v\n"),
    ]
    assert (summary.frames, summary.users) == (4, 4)
    assert metadata["users"] == 4
    assert metadata["sources"] == [str(yaml_source), str(jsonl_source)]


def test_a_bad_line_stops_the_import_before_anything_is_written(tmp_path: Path) -> None:
    source = tmp_path / "cap.jsonl"
    source.write_bytes(b'{"payload": "a: 1"}\n{"payload": 3}\n')
    output = tmp_path / "out.trec"

    with pytest.raises(TreasureError, match=r"cap.jsonl:2: no text field"):
        import_sources([source], output)

    assert not output.exists()
