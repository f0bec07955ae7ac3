"""Messages out of a packet capture (pcap or pcapng) of TCP streams, with dpkt.

Each TCP connection's two directions are told apart: by default the client's (the side
that sent the SYN, or else the first payload seen) is read, `server` reads the replies.
A direction's segments are put in sequence-number order (a retransmitted segment counts
once) and its bytes cut into frames: 4-byte big-endian length prefixes, or lines. A frame
is one message, stamped with the capture time of the segment it starts in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import dpkt

Framing = Literal["length", "lines"]
Direction = Literal["client", "server"]
_LINK_ETHERNET, _LINK_NULL, _LINK_SLL, _LINK_RAW = 1, 0, 113, 101


class CaptureError(ValueError):
    """A capture that cannot be read, or a stream that does not split into frames."""


@dataclass
class _Flow:
    segments: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # seq -> ts, data


def _packets(stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    try:
        reader: Any = dpkt.pcap.Reader(stream)
    except ValueError:
        stream.seek(0)
        try:
            reader = dpkt.pcapng.Reader(stream)
        except ValueError as exc:
            raise CaptureError(f"neither pcap nor pcapng: {exc}") from None
    link = reader.datalink()
    decode = {_LINK_ETHERNET: dpkt.ethernet.Ethernet, _LINK_NULL: dpkt.loopback.Loopback,
              _LINK_SLL: dpkt.sll.SLL}.get(link)  # fmt: skip
    for ts, buf in reader:
        packet = dpkt.ip.IP(buf) if link == _LINK_RAW else decode(buf).data if decode else None
        if isinstance(packet, dpkt.ip.IP | dpkt.ip6.IP6) and isinstance(packet.data, dpkt.tcp.TCP):
            yield round(ts * 1e9), packet


def read_capture(
    stream: BinaryIO, framing: Framing, direction: Direction
) -> Iterator[tuple[int, bytes]]:
    """(timestamp_ns, frame) for every frame of the chosen direction, connection by connection
    in the order connections first appear."""
    flows: dict[tuple[Any, ...], _Flow] = {}
    clients: dict[frozenset[tuple[Any, ...]], tuple[Any, ...]] = {}
    for ts, packet in _packets(stream):
        tcp = packet.data
        key = (bytes(packet.src), tcp.sport, bytes(packet.dst), tcp.dport)
        pair = frozenset({key[:2], key[2:]})
        syn_only = tcp.flags & dpkt.tcp.TH_SYN and not tcp.flags & dpkt.tcp.TH_ACK
        if syn_only or (pair not in clients and tcp.data):
            clients.setdefault(pair, key[:2])
        if tcp.data:
            flow = flows.setdefault(key, _Flow())
            flow.segments.setdefault(tcp.seq, (ts, bytes(tcp.data)))
    for key, flow in flows.items():
        is_client = clients.get(frozenset({key[:2], key[2:]})) == key[:2]
        if is_client == (direction == "client"):
            yield from _frames(flow, framing)


def _frames(flow: _Flow, framing: Framing) -> Iterator[tuple[int, bytes]]:
    data = bytearray()
    starts: list[tuple[int, int]] = []  # (offset in data, ts)
    for seq in sorted(flow.segments):  # a stream within one sequence wrap
        ts, chunk = flow.segments[seq]
        starts.append((len(data), ts))
        data += chunk
    offset = 0
    while offset < len(data):
        if framing == "length":
            if len(data) - offset < 4:
                raise CaptureError(f"{len(data) - offset} bytes left, not a length prefix")
            size = int.from_bytes(data[offset : offset + 4], "big")
            body_start, end = offset + 4, offset + 4 + size
            if end > len(data):
                raise CaptureError(f"a frame of {size} bytes is cut at the capture's end")
            following = end
        else:
            newline = data.find(b"\n", offset)
            body_start, end = offset, (newline if newline >= 0 else len(data))
            following = end + 1
        yield _ts_at(starts, offset), bytes(data[body_start:end])
        offset = following


def _ts_at(starts: list[tuple[int, int]], offset: int) -> int:
    ts = starts[0][1]
    for start, when in starts:
        if start > offset:
            break
        ts = when
    return ts
