"""The rounds pass: one backend's worker in a comparison's interleaved rounds.

It builds its backend and warms up as the timing pass does, reports that it is ready, then
waits on its control FIFO: each line `FIRST COUNT` asks it to time COUNT measured messages
from the FIRST (those before it are read and skipped), and a COUNT of 0 or end-of-file
ends the pass. The parent starts one block at a time, so the backends never compete for
the cores.
After each block it reports progress; at the end, each block's median time per message and,
where the machine counts them, instructions per message (`probes.instructions`).
"""

from __future__ import annotations

import gc
import statistics
import time
from array import array
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from treasure.interleaved import BackendRounds, InstructionCount
from treasure.parsers import create, resolve
from treasure.probes.instructions import EventCounter, open_counter
from treasure.recordings import Frame, open_recording
from treasure.results import ReplayConfig
from treasure.sessions import SessionModel, handler_for

Handler = Callable[[bytes], Any]
Admit = Callable[[str, Any], None]


def _nothing(payload: bytes) -> None:
    """The handler of the harness's own loop, whose instructions are subtracted."""


def warmed_up(
    frames: Iterator[Frame], warmup: int, handler: Handler, admit: Admit
) -> Iterator[Frame]:
    """The frames left after the warm-up ones went through the handler, unmeasured."""
    for frame in frames:
        if frame.index >= warmup:
            return chain([frame], frames)
        try:
            admit(frame.user_id, handler(frame.payload))
        except Exception:  # the timing pass counts errors; warm-up only heats caches
            admit(frame.user_id, None)
    return iter(())


def time_block(
    block: list[Frame], handler: Handler, admit: Admit, counter: EventCounter | None
) -> tuple[int, int | None]:
    """The block's median time per message (ns), and the events counted over its loop."""
    latencies = array("q", bytes(8 * len(block)))
    clock = time.perf_counter_ns
    if counter is not None:
        counter.start()
    for index, frame in enumerate(block):
        payload = frame.payload
        t0 = clock()
        try:
            handled = handler(payload)
        except Exception:  # failures take their time too, as in the timing pass
            handled = None
        latencies[index] = clock() - t0
        admit(frame.user_id, handled)
    counted = counter.stop() if counter is not None else None
    return round(statistics.median(latencies)), counted


def run_rounds_pass(
    config: ReplayConfig, control: Path, progress: Callable[[int], None]
) -> BackendRounds:
    info = resolve(config.backend)
    handler = handler_for(create(config.backend, routing=config.routing_spec), config.keep)
    session = SessionModel(config.users, config.keep, config.in_flight)
    # the harness loop admits into a model of its own: the users' real state stays as is
    idle = SessionModel(config.users, config.keep, config.in_flight)
    counter, refusal = open_counter()
    result = BackendRounds(backend=info.name)
    per_round: list[float] = []
    position = 0  # measured messages read so far, timed or skipped
    with open_recording(Path(config.recording), on_corrupt="skip") as reader:
        frames = warmed_up(iter(reader), config.warmup, handler, session.admit)
        gc.collect()
        progress(0)  # ready: the parent may start the first round
        with control.open("rb") as commands:
            for line in commands:
                first, count = (int(word) for word in line.split())
                if count <= 0:
                    break
                for _ in islice(frames, max(0, first - position)):  # another worker's slice
                    position += 1
                block = list(islice(frames, count))
                position += len(block)
                if block:  # every backend reads the same frames: none runs short alone
                    median, spent = time_block(block, handler, session.admit, counter)
                    result.medians_ns.append(median)
                    result.messages.append(len(block))
                    if spent is not None:
                        _, harness = time_block(block, _nothing, idle.admit, counter)
                        per_round.append((spent - (harness or 0)) / len(block))
                progress(position)  # the block is over, even an empty one
    result.instructions = instruction_count(per_round, counter, refusal)
    if counter is not None:
        counter.close()
    return result


def instruction_count(
    per_round: list[float], counter: EventCounter | None, refusal: str
) -> InstructionCount:
    if counter is None:
        return InstructionCount(available=False, reason=f"not available: {refusal}")
    if not per_round:
        return InstructionCount(available=False, reason="not available: no block was timed")
    return InstructionCount(
        available=True,
        per_message=statistics.median(per_round),
        per_round=per_round,
        multiplexed=counter.multiplexed,
    )
