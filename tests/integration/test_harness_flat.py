"""The replay loop's own memory is flat: what a run grows by is the backend's, not the
harness's. Its raw latencies sit in arrays sized before the loop: appending them grew a
no-op run by 7.8-13.0 B per message (16.0-21.5 paced) over 20,000 and 80,000 messages;
preallocated, 0.0 B over 20,000, and over 80,000 one 64 KiB step of the worker's heap at
message 48,000 (1.34 B per message as a slope; 160,000 messages grow by 68 KiB in all,
0.48 B per message): allocator steps, not a cost per message."""

from __future__ import annotations

import pytest
from tests.conftest import EVENT_MESSAGE, MakeRecording
from tests.integration.test_rss_truth import NO_OP, timing

pytestmark = pytest.mark.integration

N = 20_000
# A few allocator steps (64 KiB each) over the run: a quarter of the 8 B per message of one
# int64 kept per message, so a per-message array breaks it by 4x.
FLAT_BYTES_PER_MESSAGE = 2.0


@pytest.mark.parametrize("pace", ["max", "rate:1000000/s"])
def test_a_no_op_run_grows_by_nothing_over_n_and_4n_messages(
    make_recording: MakeRecording, pace: str
) -> None:
    # given N and 4N messages from as many distinct users, through a backend doing nothing
    growth: dict[int, float] = {}
    for count in (N, 4 * N):
        recording = make_recording([EVENT_MESSAGE] * count, users=count, name=f"{count}.trec")
        # when the timing pass runs over them (a paced run keeps two raw figures a message)
        rss = timing(recording, NO_OP, pace=pace).rss
        assert rss is not None
        assert rss.process_growth_per_message_bytes is not None, rss.growth_reason
        growth[count] = rss.process_growth_per_message_bytes
        # then the process's whole growth over the run stays under the bound too
        assert rss.end_bytes - rss.start_bytes <= FLAT_BYTES_PER_MESSAGE * count, rss
    # then the slope is ~0 at both lengths: nothing the loop keeps grows with the messages
    assert all(abs(slope) <= FLAT_BYTES_PER_MESSAGE for slope in growth.values()), growth
