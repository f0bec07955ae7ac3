"""The wire protocol's frames, the schedule and target addresses, without sockets."""

from __future__ import annotations

import pytest

from treasure.errors import TreasureError
from treasure.targets import protocol
from treasure.targets.address import Address
from treasure.targets.protocol import ProtocolError, Reply
from treasure.targets.schedule import open_schedule


def test_routed_reply_is_the_documented_bytes() -> None:
    frame = protocol.encode_routed(("login", "p1", "s9"))
    assert frame.hex() == "00000016" + "00" + "000000056c6f67696e" + "000000027031" + "000000027339"
    assert protocol.decode_reply(frame[4:]) == Reply(fields=("login", "p1", "s9"))


@pytest.mark.parametrize(
    ("category", "status"),
    [("syntax", 1), ("limit", 2), ("unsafe-tag", 3), ("encoding", 4), ("schema", 5)],
)
def test_error_reply_carries_its_status_byte(category: str, status: int) -> None:
    frame = protocol.encode_error(category, "why")
    assert frame[4] == status
    assert protocol.decode_reply(frame[4:]) == Reply(category=category, message="why")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"\x09oops", "unknown status"),
        (b"\x00\x00\x00\x00\x09ab", "overruns"),
        (b"\x00\x00\x00", "cut short"),
        (b"\x00\x00\x00\x00\x01\xff", "not UTF-8"),
    ],
)
def test_a_broken_reply_is_a_protocol_error(body: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        protocol.decode_reply(body)


def test_lines_carry_utf8_as_a_string_and_other_bytes_as_base64() -> None:
    text = b"event_type: a\nplayer_id: b\n"
    assert protocol.encode_line_request(text) == b'"event_type: a\\nplayer_id: b\\n"\n'
    assert protocol.decode_line_request(protocol.encode_line_request(text)[:-1]) == text
    raw = b"\xff\xfe bad"
    line = protocol.encode_line_request(raw)
    assert line.startswith(b'{"base64": ')
    assert protocol.decode_line_request(line) == raw


def test_json_replies_round_trip() -> None:
    for reply in (Reply(fields=("a", "b")), Reply(category="schema", message="missing")):
        assert protocol.decode_reply_json(protocol.reply_json(reply)) == reply
    with pytest.raises(ProtocolError):
        protocol.decode_reply_json(b'{"error": "nonsense"}')


def test_rate_schedule_spaces_messages_evenly() -> None:
    offsets = open_schedule("rate:1000/s", [0] * 5, None)
    assert list(offsets) == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]


def test_original_schedule_keeps_gaps_scaled() -> None:
    offsets = open_schedule("original:2", [10, 110, 410], None)
    assert list(offsets) == [0, 50, 200]


def test_ramp_sends_the_integral_of_its_rate() -> None:
    offsets = open_schedule("ramp:1000..3000/s:2s", [0], None)
    assert len(offsets) == 4000  # (1000 + 3000) / 2 × 2 s
    assert offsets[0] == 0
    assert offsets[1] == pytest.approx(1_000_000, rel=1e-3)  # 1000/s at the start
    gaps = offsets[-1] - offsets[-2]
    assert gaps == pytest.approx(1e9 / 3000, rel=0.01)  # 3000/s at the end
    assert offsets[-1] < 2_000_000_000


def test_steps_hold_each_rate_for_its_duration() -> None:
    offsets = open_schedule("steps:100/s:1s,1000/s:0.5s", [0], None)
    assert len(offsets) == 600
    assert offsets[99] == 990_000_000
    assert offsets[100] == 1_000_000_000
    assert offsets[101] == 1_001_000_000


def test_limit_caps_a_ramp() -> None:
    assert len(open_schedule("ramp:10..10/s:100s", [0], 7)) == 7


@pytest.mark.parametrize("pace", ["max", "rate:0/s", "ramp:1..2/s", "steps:5/s", "steps:1/s:0s"])
def test_bad_paces_are_refused(pace: str) -> None:
    with pytest.raises(TreasureError):
        open_schedule(pace, [0, 1], None)


def test_addresses_parse_and_print_back() -> None:
    for text in ("unix:/tmp/r.sock", "tcp:127.0.0.1:7000", "http://127.0.0.1:8080/route"):
        assert str(Address.parse(text)) == text
    assert Address.parse("http://127.0.0.1:8080").path == "/"


@pytest.mark.parametrize("text", ["unix:", "tcp:host", "tcp:h:99999", "http://h/x", "ftp://h:1"])
def test_bad_addresses_say_what_form_to_use(text: str) -> None:
    with pytest.raises(TreasureError, match="target"):
        Address.parse(text)
