"""pcap/pcapng captures of TCP streams into recordings: segments put in sequence order,
the two directions told apart, one message per frame, with its capture time."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import dpkt
import pytest

from treasure.importers import ImportOptions, SourceError, import_sources
from treasure.recordings import open_recording

CLIENT, SERVER = (b"\x7f\x00\x00\x01", 40000), (b"\x7f\x00\x00\x01", 7000)


def _packet(src: tuple[bytes, int], dst: tuple[bytes, int], seq: int, data: bytes,
            flags: int = dpkt.tcp.TH_ACK) -> bytes:  # fmt: skip
    tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq, flags=flags, data=data)
    ip = dpkt.ip.IP(src=src[0], dst=dst[0], p=dpkt.ip.IP_PROTO_TCP, data=tcp)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def _prefixed(message: bytes) -> bytes:
    return len(message).to_bytes(4, "big") + message


MESSAGES = [b"event_type: e\nplayer_id: p-%d\nsession_id: s\n" % i for i in range(3)]


def _write(path: Path, writer_type: type, stream: bytes) -> None:
    # the client's stream cut in three segments written out of order, a retransmission,
    # and the server's replies in between
    cuts = [stream[:10], stream[10:70], stream[70:]]
    seqs = [1000, 1010, 1070]
    packets = [
        (1.0, _packet(CLIENT, SERVER, 999, b"", dpkt.tcp.TH_SYN)),
        (1.5, _packet(CLIENT, SERVER, seqs[0], cuts[0])),
        (1.7, _packet(CLIENT, SERVER, seqs[2], cuts[2])),
        (1.8, _packet(SERVER, CLIENT, 5000, _prefixed(b"ok"))),
        (1.9, _packet(CLIENT, SERVER, seqs[1], cuts[1])),
        (2.0, _packet(CLIENT, SERVER, seqs[1], cuts[1])),  # retransmitted
    ]
    with path.open("wb") as out:
        writer = writer_type(out)
        for ts, packet in packets:
            writer.writepkt(packet, ts=ts)


def _frames(path: Path) -> list[tuple[int, str, bytes]]:
    with open_recording(path) as reader:
        return [(frame.timestamp_ns, frame.user_id, frame.payload) for frame in reader]


@pytest.mark.parametrize(("suffix", "writer"), [(".pcap", dpkt.pcap.Writer),
                                                (".pcapng", dpkt.pcapng.Writer)])  # fmt: skip
def test_length_prefixed_frames_come_back_in_order(
    tmp_path: Path, suffix: str, writer: type
) -> None:
    source = tmp_path / f"c{suffix}"
    _write(source, writer, b"".join(_prefixed(m) for m in MESSAGES))
    import_sources([source], tmp_path / "c.trec")
    frames = _frames(tmp_path / "c.trec")
    assert [payload for _, _, payload in frames] == MESSAGES
    assert [user for _, user, _ in frames] == ["p-0", "p-1", "p-2"]
    # each frame carries the capture time of the segment it starts in (offsets 0, 47, 94:
    # the segments sent at 1.5 s, at 1.9 s, and the one captured early at 1.7 s)
    assert [ts for ts, _, _ in frames] == [1_500_000_000, 1_900_000_000, 1_700_000_000]


def test_the_server_direction_and_lines(tmp_path: Path) -> None:
    source = tmp_path / "c.pcap"
    _write(source, dpkt.pcap.Writer, b"".join(m.replace(b"\n", b"; ") + b"\n" for m in MESSAGES))
    import_sources([source], tmp_path / "l.trec", options=ImportOptions(capture_framing="lines"))
    assert [p for _, _, p in _frames(tmp_path / "l.trec")] == [
        m.replace(b"\n", b"; ") for m in MESSAGES
    ]
    import_sources([source], tmp_path / "s.trec", options=ImportOptions(capture_direction="server"))
    assert [p for _, _, p in _frames(tmp_path / "s.trec")] == [b"ok"]


def test_a_frame_cut_at_the_end_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "cut.pcap"
    _write(source, dpkt.pcap.Writer, _prefixed(MESSAGES[0]) + b"\x00\x00\x01\x00" + b"x" * 40)
    with pytest.raises(SourceError, match=r"cut\.pcap: a frame of 256 bytes is cut"):
        import_sources([source], tmp_path / "cut.trec")


def _capture_on_loopback(path: Path, messages: list[bytes]) -> None:
    """A real capture: an AF_PACKET socket on `lo` while a client sends length-prefixed
    frames to a server on 127.0.0.1; written as pcap with dpkt."""
    try:
        sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"no packet capture on loopback here (AF_PACKET needs CAP_NET_RAW): {exc}")
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.05)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    captured: list[tuple[float, bytes]] = []
    stop = threading.Event()

    def sniff() -> None:
        while not stop.is_set():
            try:
                buf, address = sniffer.recvfrom(65535)
            except TimeoutError:
                continue
            if address[2] != socket.PACKET_OUTGOING:  # loopback shows each packet twice
                captured.append((time.time(), buf))

    sniffing = threading.Thread(target=sniff)
    sniffing.start()
    with socket.create_connection(("127.0.0.1", port)) as client, server.accept()[0] as peer:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for message in messages:
            client.sendall(_prefixed(message))
            peer.sendall(_prefixed(b"ok"))
            time.sleep(0.005)
    time.sleep(0.2)
    stop.set()
    sniffing.join()
    server.close()
    sniffer.close()
    with path.open("wb") as out:
        writer = dpkt.pcap.Writer(out)
        for ts, buf in captured:
            packet = dpkt.ethernet.Ethernet(buf).data
            tcp = packet.data if isinstance(packet, dpkt.ip.IP) else None
            if isinstance(tcp, dpkt.tcp.TCP) and port in (tcp.sport, tcp.dport):
                writer.writepkt(buf, ts=ts)


def test_a_real_loopback_capture_imports_what_the_client_sent(tmp_path: Path) -> None:
    # given a capture on loopback of a client sending five messages, the server answering
    source = tmp_path / "lo.pcap"
    _capture_on_loopback(source, MESSAGES + MESSAGES[:2])
    # when imported, client direction, user id by field path
    import_sources([source], tmp_path / "lo.trec", options=ImportOptions(user_path="player_id"))
    # then the recording holds exactly the client's messages, in order, stamped in order
    frames = _frames(tmp_path / "lo.trec")
    assert [payload for _, _, payload in frames] == MESSAGES + MESSAGES[:2]
    assert [user for _, user, _ in frames] == ["p-0", "p-1", "p-2", "p-0", "p-1"]
    stamps = [ts for ts, _, _ in frames]
    assert stamps == sorted(stamps)
    assert stamps[0] > 1_600_000_000 * 10**9  # capture times, not made-up ones
