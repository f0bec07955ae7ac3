"""Where a target listens: `unix:PATH`, `tcp:HOST:PORT` or `http://HOST:PORT/PATH`."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from treasure.errors import TreasureError

Transport = Literal["unix", "tcp", "http"]
Framing = Literal["length", "lines"]
FRAMINGS: tuple[Framing, ...] = ("length", "lines")


@dataclass(frozen=True)
class Address:
    transport: Transport
    path: str = ""  # the socket path (unix) or the URL path (http)
    host: str = ""
    port: int = 0

    @classmethod
    def parse(cls, text: str) -> Address:
        if text.startswith("unix:"):
            path = text.removeprefix("unix:")
            if not path:
                raise TreasureError(f"target {text!r}: unix: needs a socket path")
            return cls("unix", path=path)
        if text.startswith("tcp:"):
            host, port = _host_port(text.removeprefix("tcp:"), text)
            return cls("tcp", host=host, port=port)
        if text.startswith("http://"):
            parts = urlsplit(text)
            if not parts.hostname or parts.port is None:
                raise TreasureError(f"target {text!r}: use http://HOST:PORT/PATH")
            return cls("http", path=parts.path or "/", host=parts.hostname, port=parts.port)
        raise TreasureError(
            f"unknown target {text!r} (use unix:PATH, tcp:HOST:PORT or http://HOST:PORT/PATH)"
        )

    def __str__(self) -> str:
        if self.transport == "unix":
            return f"unix:{self.path}"
        if self.transport == "tcp":
            return f"tcp:{self.host}:{self.port}"
        return f"http://{self.host}:{self.port}{self.path}"

    def connect(self, timeout_s: float) -> socket.socket:
        """A connected stream socket; OSError (refused, missing path) is the caller's."""
        if self.transport == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            return sock
        sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def _host_port(text: str, whole: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TreasureError(f"target {whole!r}: use HOST:PORT with a port in 1..65535")
    return host, int(port)


def parse_host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` of `serve --tcp/--http` (port 0: any free port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise TreasureError(f"{text!r}: use HOST:PORT (port 0 picks a free one)")
    return host, int(port)
