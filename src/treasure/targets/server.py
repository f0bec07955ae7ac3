"""`treasure serve`: any registered backend behind the target protocol.

One thread per connection, each with its own backend instance (a backend need not be
thread-safe). A connection's requests are read in chunks and answered in order, every
reply of a chunk in one write: a pipelining sender then costs one syscall per chunk, not
per message.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec

from treasure.parsers import Limits, ParseError, create
from treasure.routing import RoutingSpec
from treasure.targets import protocol
from treasure.targets.address import Framing
from treasure.targets.protocol import Reply

READ_CHUNK = 256 << 10
LINE_EXPANSION = 6  # a payload byte is at most 6 bytes of JSON (\u0000)
DRAIN_S, DRAIN_BYTES = 2.0, 64 << 20  # how long and how much a refused client is read
Router = Callable[[bytes], Reply]


def make_router(backend_name: str, limits: Limits, routing: RoutingSpec | None) -> Router:
    """backend.route as a function of payload -> Reply; never raises."""
    backend = _create(backend_name, limits, routing)
    route = backend.route

    def router(payload: bytes) -> Reply:
        try:
            routed = route(payload)
        except ParseError as exc:
            return Reply(category=exc.category.value, message=exc.detail)
        except Exception as exc:  # a backend bug is the router's fault, not the payload's
            return Reply(category=protocol.INTERNAL, message=repr(exc)[:300])
        return Reply(fields=_fields(routed))

    return router


def _create(backend_name: str, limits: Limits, routing: RoutingSpec | None) -> Any:
    return create(backend_name, limits, routing)


def _fields(routed: Any) -> tuple[str, ...]:
    if isinstance(routed, tuple):
        return tuple(str(value) for value in routed)
    if isinstance(routed, msgspec.Struct):
        return tuple(str(value) for value in msgspec.structs.astuple(routed))
    return (str(routed),)


def answer_length_frames(buffer: bytearray, router: Router, max_request: int) -> bytes:
    """Route every complete frame in `buffer` (consumed); the replies, concatenated. A frame
    longer than `max_request` is answered `limit` and ends the connection (a _Refusal)."""
    replies: list[bytes] = []
    offset = 0
    while len(buffer) - offset >= 4:
        (size,) = protocol.LENGTH.unpack_from(buffer, offset)
        if size > max_request:
            replies.append(protocol.encode_error("limit", f"request of {size} bytes refused"))
            del buffer[:]
            return _Refusal(b"".join(replies))
        if len(buffer) - offset - 4 < size:
            break
        reply = router(bytes(buffer[offset + 4 : offset + 4 + size]))
        replies.append(
            protocol.encode_routed(reply.fields)
            if reply.routed
            else protocol.encode_error(reply.category, reply.message)
        )
        offset += 4 + size
    del buffer[:offset]
    return b"".join(replies)


class _Refusal(bytes):
    """Replies after which the connection is to be closed."""


def answer_lines(buffer: bytearray, router: Router, max_request: int) -> bytes:
    """Route every complete line in `buffer` (consumed); the replies, concatenated. A line
    still unfinished past what a `max_request` payload can take as JSON is answered
    `limit` and ends the connection (a _Refusal)."""
    replies: list[bytes] = []
    start = 0
    while (end := buffer.find(b"\n", start)) >= 0:
        line = bytes(buffer[start:end])
        start = end + 1
        if not line.strip():
            continue
        try:
            reply = router(protocol.decode_line_request(line))
        except protocol.ProtocolError as exc:
            reply = Reply(category="syntax", message=f"bad request line: {exc}")
        replies.append(protocol.reply_json(reply) + b"\n")
    del buffer[:start]
    if len(buffer) > max_request * LINE_EXPANSION + 2:
        refusal = Reply(category="limit", message=f"request line of over {len(buffer)} bytes")
        replies.append(protocol.reply_json(refusal) + b"\n")
        del buffer[:]
        return _Refusal(b"".join(replies))
    return b"".join(replies)


def stream_handler(
    backend_name: str, limits: Limits, routing: RoutingSpec | None, framing: Framing
) -> type[socketserver.BaseRequestHandler]:
    max_request = limits.max_bytes + 1

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            router = make_router(backend_name, limits, routing)
            sock: socket.socket = self.request
            buffer = bytearray()
            while chunk := _recv(sock):
                buffer += chunk
                if framing == "lines":
                    out = answer_lines(buffer, router, max_request)
                else:
                    out = answer_length_frames(buffer, router, max_request)
                if out and not _send(sock, out):
                    return
                if isinstance(out, _Refusal):
                    _end(sock)
                    return

    return Handler


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(READ_CHUNK)
    except OSError:  # reset by the peer: the connection is over
        return b""


def _end(sock: socket.socket) -> None:
    """EOF after the replies, then a bounded wait for the client to close: closing with its
    requests unread would reset the connection, and the refusal would never be read."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(DRAIN_S)
        drained = 0
        while drained < DRAIN_BYTES and (chunk := sock.recv(READ_CHUNK)):
            drained += len(chunk)


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def http_handler(
    backend_name: str, limits: Limits, routing: RoutingSpec | None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection, many requests
        router: Router | None = None

        def do_POST(self) -> None:
            if self.router is None:
                self.router = make_router(backend_name, limits, routing)
            size = int(self.headers.get("Content-Length") or 0)
            if size > limits.max_bytes + 1:
                self._reply(413, Reply(category="limit", message=f"body of {size} bytes"))
                self.close_connection = True
                return
            reply = self.router(self.rfile.read(size))
            self._reply(protocol.http_status(reply), reply)

        def _reply(self, status: int, reply: Reply) -> None:
            body = protocol.reply_json(reply)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request would cost more than the request

    return Handler


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True


def build_server(
    backend_name: str,
    *,
    unix: Path | None = None,
    tcp: tuple[str, int] | None = None,
    http: tuple[str, int] | None = None,
    framing: Framing = "length",
    limits: Limits | None = None,
    routing: RoutingSpec | None = None,
) -> socketserver.BaseServer:
    """A bound, listening server (not yet serving). The backend is created once here so a
    bad name or a broken backend fails before anything listens."""
    limits = limits or Limits()
    _create(backend_name, limits, routing)
    if unix is not None:
        with contextlib.suppress(FileNotFoundError):
            if unix.is_socket():
                unix.unlink()  # a stale socket left by a killed server
        handler = stream_handler(backend_name, limits, routing, framing)
        return _UnixServer(str(unix), handler)
    if tcp is not None:
        return _TcpServer(tcp, stream_handler(backend_name, limits, routing, framing))
    assert http is not None
    return _HttpServer(http, http_handler(backend_name, limits, routing))


def listening_address(server: socketserver.BaseServer) -> str:
    address = server.server_address
    if isinstance(address, str | bytes):
        return f"unix:{os.fsdecode(address)}"
    assert isinstance(address, tuple)
    host, port = address[0], address[1]
    scheme = "http://" if isinstance(server, _HttpServer) else "tcp:"
    suffix = "/route" if isinstance(server, _HttpServer) else ""
    return f"{scheme}{host}:{port}{suffix}"
