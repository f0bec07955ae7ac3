"""The native server (rust/serve) against the in-process backends of the same names: the
same fields for every message under a routing spec, the same error categories, in both
stream framings; and its user errors as `treasure serve` gives them."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.targets.conftest import Served, free_port, replay_through_native_server
from tests.targets.test_target_live import hostile_payloads

from treasure.parsers import Limits, ParseError, create
from treasure.routing import RoutingSpec
from treasure.targets import protocol
from treasure.targets.native import native_server_path
from treasure.targets.protocol import Reply

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        native_server_path() is None,
        reason="the native server is not built (make install builds it where cargo exists)",
    ),
]
SPEC = "event_type,position.zone,ts:scalar,player_id"
NESTED = b"event_type: login\nposition: {zone: 'north'}\nts: 0x1F\nplayer_id: p1\n"


def expected_replies(backend: str, spec: str, payloads: list[bytes]) -> list[Reply]:
    router = create(backend, routing=RoutingSpec.parse(spec))
    replies = []
    for payload in payloads:
        try:
            replies.append(Reply(fields=tuple(router.route(payload))))
        except ParseError as exc:
            replies.append(Reply(category=exc.category.value))
    return replies


class NativeServer:
    def __init__(self, *args: str) -> None:
        server = native_server_path()
        assert server is not None
        self.process = subprocess.Popen(
            [str(server), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line.startswith("listening on unix:"), self.process.communicate()
        self.path = line.removeprefix("listening on unix:")

    def exchange(self, requests: list[bytes], framing: str) -> list[Reply]:
        return exchange(self.path, requests, framing)


def exchange(address: str | tuple[str, int], requests: list[bytes], framing: str) -> list[Reply]:
    """Every request pipelined on one connection (a Unix socket's path, or TCP's host and
    port), then every reply read, in order."""
    encode = protocol.encode_line_request if framing == "lines" else protocol.blob
    family = socket.AF_INET if isinstance(address, tuple) else socket.AF_UNIX
    with socket.socket(family) as sock:
        sock.settimeout(20)
        sock.connect(address)
        with contextlib.suppress(BrokenPipeError):  # a server refusing a request closes
            sock.sendall(b"".join(encode(request) for request in requests))
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := sock.recv(1 << 16):
            received += chunk
    return decode_replies(bytes(received), framing)


def decode_replies(received: bytes, framing: str) -> list[Reply]:
    if framing == "lines":
        return [protocol.decode_reply_json(line) for line in received.splitlines()]
    replies, offset = [], 0
    while offset < len(received):
        (size,) = protocol.LENGTH.unpack_from(received, offset)
        replies.append(protocol.decode_reply(received[offset + 4 : offset + 4 + size]))
        offset += 4 + size
    return replies


@pytest.fixture
def native(tmp_path: Path) -> Iterator[list[NativeServer]]:
    started: list[NativeServer] = []
    yield started
    for server in started:
        server.process.kill()
        server.process.communicate(timeout=10)


def start(native: list[NativeServer], tmp_path: Path, *args: str) -> NativeServer:
    server = NativeServer(*args, "--unix", str(tmp_path / f"native-{len(native)}.sock"))
    native.append(server)
    return server


@pytest.mark.parametrize("framing", ["length", "lines"])
@pytest.mark.parametrize("backend", ["rust-serde", "rust-scan"])
def test_routes_a_spec_as_the_backend_does_in_process(
    backend: str, framing: str, tmp_path: Path, native: list[NativeServer]
) -> None:
    payloads = [EVENT_MESSAGE, NESTED, *hostile_payloads()]
    server = start(native, tmp_path, "--backend", backend, "--route", SPEC, "--framing", framing)
    replies = server.exchange(payloads, framing)
    expected = expected_replies(backend, SPEC, payloads)
    assert [(r.fields, r.category) for r in replies] == [(r.fields, r.category) for r in expected]
    assert replies[1].fields == ("login", "north", "0x1F", "p1")
    assert {r.category for r in replies} >= {"", "syntax", "encoding", "schema", "unsafe-tag"}


def test_tcp_answers_as_the_unix_socket_does() -> None:
    server = native_server_path()
    assert server is not None
    port = free_port()
    process = subprocess.Popen(
        [str(server), "--backend", "rust-events", "--route", SPEC, "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"listening on tcp:127.0.0.1:{port}"
        payloads = [EVENT_MESSAGE, NESTED, *hostile_payloads()]
        replies = exchange(("127.0.0.1", port), payloads, "length")
    finally:
        process.kill()
        process.communicate(timeout=10)
    expected = expected_replies("rust-events", SPEC, payloads)
    assert [(r.fields, r.category) for r in replies] == [(r.fields, r.category) for r in expected]


def test_the_default_spec_is_the_three_fields(tmp_path: Path, native: list[NativeServer]) -> None:
    server = start(native, tmp_path)
    assert server.exchange([EVENT_MESSAGE], "length") == [
        Reply(fields=("player.move", "p-000123", "s-3f9a1c02"))
    ]


@pytest.mark.parametrize("server", ["native", "treasure serve"])
def test_limits_are_the_backends_then_the_connection_is_refused(
    server: str, tmp_path: Path, native: list[NativeServer], served: list[Served]
) -> None:
    at_limit = b"a: " + b"x" * (Limits().max_bytes - 2)  # one byte over max_bytes
    if server == "native":
        path = start(native, tmp_path).path
    else:
        served.append(Served("rust-serde", "--unix", str(tmp_path / "serve.sock")))
        path = served[-1].address.removeprefix("unix:")
    replies = exchange(path, [at_limit, EVENT_MESSAGE, at_limit + b"yy", EVENT_MESSAGE], "length")
    assert [reply.category for reply in replies] == ["limit", "", "limit"]  # then closed
    assert "refused" in replies[2].message


@pytest.mark.parametrize("server", ["native", "treasure serve"])
def test_a_line_longer_than_any_payload_is_refused(
    server: str, tmp_path: Path, native: list[NativeServer], served: list[Served]
) -> None:
    if server == "native":
        path = start(native, tmp_path, "--framing", "lines").path
    else:
        listen = ["--unix", str(tmp_path / "serve.sock"), "--framing", "lines"]
        served.append(Served("rust-serde", *listen))
        path = served[-1].address.removeprefix("unix:")
    endless = b'"' + b"x" * (7 * Limits().max_bytes)  # no newline: more than 6 MiB of JSON
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(20)
        sock.connect(path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(protocol.encode_line_request(EVENT_MESSAGE) + endless)
        received = b"".join(iter(lambda: sock.recv(1 << 16), b""))
    replies = decode_replies(received, "lines")
    assert [reply.category for reply in replies] == ["", "limit"]
    assert "request line of over" in replies[1].message


def test_a_bad_request_line_is_a_syntax_reply(tmp_path: Path, native: list[NativeServer]) -> None:
    server = start(native, tmp_path, "--framing", "lines")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(20)
        sock.connect(server.path)
        sock.sendall(b'[1]\n\n{"base64": "/w=="}\n' + protocol.encode_line_request(EVENT_MESSAGE))
        sock.shutdown(socket.SHUT_WR)
        received = b"".join(iter(lambda: sock.recv(1 << 16), b""))
    replies = decode_replies(received, "lines")
    assert [reply.category for reply in replies] == ["syntax", "encoding", ""]
    assert "bad request line" in replies[0].message


def test_a_replay_through_the_line_framing_counts_every_reply(
    tmp_path: Path, make_recording: MakeRecording
) -> None:
    server = native_server_path()
    assert server is not None
    payloads = [EVENT_MESSAGE, *hostile_payloads()] * 10
    recording = make_recording(payloads)
    figures = replay_through_native_server(server, "rust-events", recording, tmp_path, "lines")
    expected = expected_replies("rust-events", "event_type,player_id,session_id", payloads)
    assert figures.failure == ""
    assert figures.answered == len(payloads)
    assert figures.routed == sum(reply.routed for reply in expected)
    assert sum(figures.errors.values()) == len(payloads) - figures.routed


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--route", "a,,b"], 3, "--route: empty field"),
        (["--route", "a. b"], 3, "padded key"),
        (["--route", "meta,meta.session"], 3, "is a field and the mapping of"),
        (["--backend", "pyyaml-dom"], 3, "unknown backend"),
        (["--framing", "xml"], 2, "--framing"),
        ([], 2, "exactly one of --unix"),
    ],
)
def test_user_errors_are_one_line_and_an_exit_code(args: list[str], code: int, says: str) -> None:
    server = native_server_path()
    assert server is not None
    listen = ["--unix", "/nonexistent/never.sock"] if args else []
    done = subprocess.run([str(server), *args, *listen], capture_output=True, text=True, timeout=10)
    assert done.returncode == code
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_cannot_listen_is_bad_input(tmp_path: Path) -> None:
    server = native_server_path()
    assert server is not None
    unix = str(tmp_path / "missing" / "s.sock")
    done = subprocess.run([str(server), "--unix", unix], capture_output=True, text=True, timeout=10)
    assert done.returncode == 3
    assert "cannot listen on" in done.stderr
