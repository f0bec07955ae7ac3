"""The pure-Python open-model sender: every message goes at its scheduled time whatever the
replies do, over C connections (message i on connection i mod C), many in flight on each.

Per connection a writer thread sends every message that is due in one write, and a reader
thread matches replies to requests in order. Both loops are bounded: by the schedule's
messages, by the reply timeout, and by a stop flag the caller sets when the target dies.
It reaches a few thousand to tens of thousands of messages a second; the native sender
(treasure.targets.native) is the one for higher rates.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from treasure.targets import protocol
from treasure.targets.address import Address, Framing

# What became of a message, for the per-second timeline (TIMELINE_COLUMNS' order).
ROUTED, ERROR, TIMED_OUT, LOST = 1, 2, 3, 4
POLL_S = 0.05  # how often a waiting reader looks at the stop flag and the reply timeout
SLEEP_SLACK_NS = 200_000  # wake this early: sleeps overshoot, the batch catches up
MAX_BATCH = 1024  # frames in one write: a slow target holds one back for a bounded time


@dataclass
class Outcomes:
    """What happened to each scheduled message, filled by the connections' threads."""

    offsets: array[int]
    actual: array[int] = field(init=False)  # perf_counter_ns of the send; 0: never sent
    done: array[int] = field(init=False)  # perf_counter_ns of the reply; 0: unanswered
    outcome: array[int] = field(init=False)  # ROUTED, ERROR, TIMED_OUT, LOST; 0: not yet
    start_ns: int = 0
    categories: Counter[str] = field(default_factory=Counter)  # "" is routed
    timeouts: int = 0
    lost: int = 0
    refused: int = 0
    replies_so_far: int = 0  # read while the run goes (by the target's sampler)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.actual = array("q", bytes(8 * len(self.offsets)))
        self.done = array("q", bytes(8 * len(self.offsets)))
        self.outcome = array("b", bytes(len(self.offsets)))

    def fail(self, message: str) -> None:
        with self.lock:
            if message not in self.failures:
                self.failures.append(message)

    def answered(self) -> int:
        return sum(self.categories.values())


class StreamConnection:
    """One connection of the length-prefixed or JSON-lines framing."""

    def __init__(
        self,
        sock: socket.socket,
        framing: Framing,
        indices: range,
        payloads: Sequence[bytes],
        outcomes: Outcomes,
        stop: threading.Event,
        reply_timeout_s: float,
        halt: threading.Event | None = None,
    ) -> None:
        self.sock = sock
        self.framing = framing
        self.indices = indices
        self.payloads = payloads
        self.outcomes = outcomes
        self.stop = stop
        self.halt = halt or threading.Event()  # send no more; what was sent is still read
        self.reply_timeout_ns = int(reply_timeout_s * 1e9)
        self.pending: deque[int] = deque()
        self.writer_done = threading.Event()
        self.dead = threading.Event()
        self.timed_out = False
        self.categories: Counter[str] = Counter()

    def frame(self, index: int) -> bytes:
        payload = self.payloads[index % len(self.payloads)]
        if self.framing == "lines":
            return protocol.encode_line_request(payload)
        return protocol.blob(payload)

    def write_all(self) -> None:
        clock, start, offsets = time.perf_counter_ns, self.outcomes.start_ns, self.outcomes.offsets
        actual, pending, indices = self.outcomes.actual, self.pending, self.indices
        position, count = 0, len(indices)
        # a target slower than the schedule is not waited for without end (as the native
        # sender): sending stops one reply timeout past the last send, the rest unsent
        give_up = start + (offsets[-1] if len(offsets) else 0) + self.reply_timeout_ns
        try:
            while position < count and not (
                self.stop.is_set() or self.halt.is_set() or self.dead.is_set()
            ):
                now = clock()
                if now > give_up:
                    self.outcomes.fail(
                        "the target fell behind the schedule: sending stopped "
                        f"{self.reply_timeout_ns / 1e9:g} s (the reply timeout) past the "
                        "schedule's end, the messages not sent by then are unsent"
                    )
                    break
                due = start + offsets[indices[position]]
                if due > now:
                    if due - now > SLEEP_SLACK_NS:
                        time.sleep((due - now - SLEEP_SLACK_NS) / 1e9)
                    continue
                frames = []
                batch_end = min(count, position + MAX_BATCH)  # give_up is read between
                while position < batch_end and start + offsets[indices[position]] <= now:
                    index = indices[position]
                    frames.append(self.frame(index))
                    actual[index] = now
                    pending.append(index)
                    position += 1
                self.sock.sendall(b"".join(frames))
        except OSError as exc:
            self.outcomes.fail(f"sending failed: {exc.strerror or exc}")
            self.dead.set()
        finally:
            self.writer_done.set()

    def closed_loop(self) -> None:
        """`--pace max` against a target: the next message goes when the last is answered,
        one in flight per connection, so each round trip is the hop plus the routing."""
        clock, actual, done = time.perf_counter_ns, self.outcomes.actual, self.outcomes.done
        buffer = bytearray()
        self.sock.settimeout(self.reply_timeout_ns / 1e9)
        try:
            for index in self.indices:
                if self.stop.is_set() or self.halt.is_set():
                    return
                actual[index] = clock()
                self.pending.append(index)
                self.sock.sendall(self.frame(index))
                while self.pending:
                    chunk = self.sock.recv(256 << 10)
                    if not chunk:
                        self.outcomes.fail("the target closed the connection")
                        return
                    buffer += chunk
                    self.take_replies(buffer, clock())
                done[index] = done[index] or clock()
        except TimeoutError:
            self.timed_out = True
            self.outcomes.fail(
                f"no reply within the {self.reply_timeout_ns / 1e9:g} s reply timeout"
            )
        except OSError as exc:
            self.outcomes.fail(f"the connection failed: {exc.strerror or exc}")
        except protocol.ProtocolError as exc:
            self.categories[protocol.PROTOCOL] += 1
            self.outcomes.fail(f"a reply broke the protocol: {exc}")

    def read_all(self) -> None:
        buffer = bytearray()
        try:
            while not self.stop.is_set() and not self.dead.is_set():
                if self.writer_done.is_set() and not self.pending:
                    return
                if not select.select([self.sock], [], [], POLL_S)[0]:
                    self.check_timeout()
                    continue
                chunk = self.sock.recv(256 << 10)
                if not chunk:
                    if self.pending or not self.writer_done.is_set():
                        self.outcomes.fail("the target closed the connection")
                        self.dead.set()
                    return
                buffer += chunk
                self.take_replies(buffer, time.perf_counter_ns())
        except OSError as exc:
            self.outcomes.fail(f"receiving failed: {exc.strerror or exc}")
            self.dead.set()
        except protocol.ProtocolError as exc:
            self.categories[protocol.PROTOCOL] += 1
            self.outcomes.fail(f"a reply broke the protocol: {exc}")
            self.dead.set()

    def check_timeout(self) -> None:
        if self.pending:
            oldest = self.outcomes.actual[self.pending[0]]
            if time.perf_counter_ns() - oldest > self.reply_timeout_ns:
                self.outcomes.fail(
                    f"no reply within the {self.reply_timeout_ns / 1e9:g} s reply timeout"
                )
                self.timed_out = True
                self.dead.set()

    def take_replies(self, buffer: bytearray, now: int) -> None:
        done, pending, categories = self.outcomes.done, self.pending, self.categories
        replies = _replies(buffer, self.framing)
        for reply in replies:
            if not pending:
                raise protocol.ProtocolError("a reply to no request")
            index = pending.popleft()
            done[index] = now
            self.outcomes.outcome[index] = ROUTED if reply.routed else ERROR
            categories[reply.category] += 1
        with self.outcomes.lock:
            self.outcomes.replies_so_far += len(replies)

    def settle(self) -> None:
        """After both threads: what is still pending is timed out or lost."""
        with self.outcomes.lock:
            self.outcomes.categories.update(self.categories)
            if self.timed_out:
                self.outcomes.timeouts += len(self.pending)
            else:
                self.outcomes.lost += len(self.pending)
            for index in self.pending:
                self.outcomes.outcome[index] = TIMED_OUT if self.timed_out else LOST


def _replies(buffer: bytearray, framing: Framing) -> list[protocol.Reply]:
    replies: list[protocol.Reply] = []
    offset = 0
    if framing == "lines":
        while (end := buffer.find(b"\n", offset)) >= 0:
            replies.append(protocol.decode_reply_json(bytes(buffer[offset:end])))
            offset = end + 1
    else:
        while len(buffer) - offset >= 4:
            (size,) = protocol.LENGTH.unpack_from(buffer, offset)
            if len(buffer) - offset - 4 < size:
                break
            replies.append(protocol.decode_reply(bytes(buffer[offset + 4 : offset + 4 + size])))
            offset += 4 + size
    del buffer[:offset]
    return replies


def connect_all(
    address: Address, connections: int, outcomes: Outcomes, timeout_s: float
) -> list[socket.socket | None]:
    sockets: list[socket.socket | None] = []
    for _ in range(connections):
        try:
            sockets.append(address.connect(timeout_s))
        except OSError as exc:
            outcomes.refused += 1
            outcomes.fail(f"cannot connect to {address}: {exc.strerror or exc}")
            sockets.append(None)
    return sockets


def send_stream(
    address: Address,
    framing: Framing,
    payloads: Sequence[bytes],
    offsets: array[int],
    *,
    connections: int = 1,
    reply_timeout_s: float = 5.0,
    stop: threading.Event | None = None,
    halt: threading.Event | None = None,
    on_outcomes: Callable[[Outcomes], None] | None = None,
    closed: bool = False,
) -> Outcomes:
    """Send the schedule; returns when every message is answered or given up on. `closed`:
    ignore the schedule, each connection sending its next message on the last reply.
    `stop` ends the send at once; `halt` sends no more but reads the replies still due."""
    outcomes = Outcomes(offsets)
    if on_outcomes is not None:
        on_outcomes(outcomes)  # a sampler reads answered() while the run goes
    stop = stop or threading.Event()
    sockets = connect_all(address, connections, outcomes, reply_timeout_s)
    workers = [
        StreamConnection(
            sock,
            framing,
            range(k, len(offsets), connections),
            payloads,
            outcomes,
            stop,
            reply_timeout_s,
            halt,
        )
        for k, sock in enumerate(sockets)
        if sock is not None
    ]
    outcomes.start_ns = time.perf_counter_ns()
    threads = [
        threading.Thread(target=run, daemon=True)
        for worker in workers
        for run in ((worker.closed_loop,) if closed else (worker.write_all, worker.read_all))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker, sock in zip(workers, [s for s in sockets if s is not None], strict=True):
        worker.settle()
        sock.close()
    return outcomes
