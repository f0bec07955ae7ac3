"""RecordingInfo's fields say what they hold; result files written under the old names
(`frames`, `payload_bytes`, `recorded_frames`) still load, into the new ones."""

from __future__ import annotations

import msgspec
from tests.unit.report_results import comparison, run

from treasure.gate.regression import _recording_mismatch
from treasure.results import RecordingInfo, loads, to_json
from treasure.results.storage import RENAMED_RECORDING_FIELDS


def under_old_names(text: str) -> bytes:
    for old, new in RENAMED_RECORDING_FIELDS.items():
        text = text.replace(f'"{new}"', f'"{old}"')
    return text.encode()


def test_a_run_written_under_the_old_names_loads_into_the_new_ones() -> None:
    # given a run whose recording says it measured 3,000 messages of a 4,000-frame recording
    result = run("pyyaml-dom", "dom", 100_000, 90_000)
    result.recording = msgspec.structs.replace(result.recording, frames_in_recording=4000)
    old = under_old_names(to_json(result))
    assert b'"recorded_frames": 4000' in old
    assert b'"frames": 3000' in old
    # when the file as an older treasure wrote it is loaded, then every figure is there
    assert loads(old) == result


def test_a_comparison_written_under_the_old_names_loads_every_run() -> None:
    result = comparison()
    loaded = loads(under_old_names(to_json(result)))
    assert loaded == result
    assert loaded.recording.messages_measured == 3000


def test_a_file_with_the_new_names_is_read_as_it_is() -> None:
    result = run("rust-serde", "rust", 20_000, 1_500)
    text = to_json(result).encode()
    assert not any(f'"{old}"'.encode() in text for old in RENAMED_RECORDING_FIELDS)
    assert loads(text) == result


def recording(measured: int, in_recording: int | None = 2000) -> RecordingInfo:
    return RecordingInfo(
        path="recordings/smoke.trec",
        messages_measured=measured,
        payload_bytes_measured=measured * 512,
        users=10,
        frames_in_recording=in_recording,
    )


def test_the_gate_tells_another_part_of_one_recording_from_another_recording() -> None:
    # given two runs of one 2,000-frame recording, one with --limit 500
    limited, whole = recording(500), recording(1950)
    # then they measured other messages of the same recording, not another recording
    said = _recording_mismatch(limited, whole)
    assert said.startswith("the baseline measured other messages (1,950 messages")
    assert "another recording" not in said
    # and a recording of another length is another recording
    assert _recording_mismatch(recording(500, 600), whole).startswith(
        "the baseline replayed another recording (recordings/smoke.trec: 2,000 frames"
    )
    assert _recording_mismatch(whole, msgspec.structs.replace(whole)) == ""
