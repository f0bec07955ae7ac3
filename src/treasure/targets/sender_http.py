"""The HTTP sender: POST each payload at its scheduled time over keep-alive connections.
HTTP/1.1 has no pipelining that servers honour, so each connection has one request in
flight; a message due while its connection waits is sent late, and the corrected latency
counts that wait."""

from __future__ import annotations

import http.client
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence

from treasure.targets import protocol
from treasure.targets.address import Address
from treasure.targets.sender import ERROR, LOST, ROUTED, SLEEP_SLACK_NS, TIMED_OUT, Outcomes


def _post_all(
    address: Address,
    indices: range,
    payloads: Sequence[bytes],
    outcomes: Outcomes,
    stop: threading.Event,
    timeout_s: float,
) -> None:
    clock, start, offsets = time.perf_counter_ns, outcomes.start_ns, outcomes.offsets
    categories: Counter[str] = Counter()
    connection = http.client.HTTPConnection(address.host, address.port, timeout=timeout_s)
    index = -1
    try:
        for index in indices:
            if stop.is_set():
                break
            due = start + offsets[index]
            while (now := clock()) < due:
                if due - now > SLEEP_SLACK_NS:
                    time.sleep((due - now - SLEEP_SLACK_NS) / 1e9)
            outcomes.actual[index] = now
            payload = payloads[index % len(payloads)]
            connection.request("POST", address.path, body=payload)
            response = connection.getresponse()
            body = response.read()
            outcomes.done[index] = clock()
            category = _category(response.status, body)
            outcomes.outcome[index] = ERROR if category else ROUTED
            categories[category] += 1
            with outcomes.lock:
                outcomes.replies_so_far += 1
    except TimeoutError:
        with outcomes.lock:
            outcomes.timeouts += 1
        outcomes.outcome[index] = TIMED_OUT
        outcomes.fail(f"no reply within the {timeout_s:g} s reply timeout")
    except ConnectionRefusedError as exc:
        with outcomes.lock:
            outcomes.refused += 1
        outcomes.fail(f"cannot connect to {address}: {exc.strerror or exc}")
    except (OSError, http.client.HTTPException) as exc:
        if index >= 0 and outcomes.actual[index] and not outcomes.done[index]:
            with outcomes.lock:
                outcomes.lost += 1
            outcomes.outcome[index] = LOST
        outcomes.fail(f"the target's connection failed: {exc!r}")
    finally:
        connection.close()
        with outcomes.lock:
            outcomes.categories.update(categories)


def _category(status: int, body: bytes) -> str:
    """ "" for routed; a category for a classified error; "protocol" for anything else."""
    try:
        reply = protocol.decode_reply_json(body)
    except protocol.ProtocolError:
        return protocol.PROTOCOL
    if status != protocol.http_status(reply) and not (status == 413 and reply.category == "limit"):
        return protocol.PROTOCOL
    return reply.category


def send_http(
    address: Address,
    payloads: Sequence[bytes],
    offsets: array[int],
    *,
    connections: int = 1,
    reply_timeout_s: float = 5.0,
    stop: threading.Event | None = None,
    on_outcomes: Callable[[Outcomes], None] | None = None,
) -> Outcomes:
    outcomes = Outcomes(offsets)
    if on_outcomes is not None:
        on_outcomes(outcomes)
    stop = stop or threading.Event()
    outcomes.start_ns = time.perf_counter_ns()
    threads = [
        threading.Thread(
            target=_post_all,
            args=(
                address,
                range(k, len(offsets), connections),
                payloads,
                outcomes,
                stop,
                reply_timeout_s,
            ),
            daemon=True,
        )
        for k in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
