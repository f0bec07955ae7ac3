"""Result types of a comparison's interleaved rounds (`CompareResult.rounds`): each
backend's median time per round, its instructions per message where the machine counts
them, and each speed ratio as the median of its per-round ratios with a 95 % interval."""

from __future__ import annotations

import msgspec

ORDER_RULE = "rotating: round r starts with backend r mod N, the others after it in order"
INTERVAL_METHOD = (
    "order statistics of the per-round ratios (binomial, distribution-free): "
    "the k-th smallest and k-th largest of n rounds"
)


class InstructionCount(msgspec.Struct, kw_only=True):
    """Instructions retired per message in the worker's thread, user space only (the
    harness's own loop, measured with a do-nothing handler, subtracted) -- or why not."""

    available: bool
    per_message: float | None = None  # median over rounds; None when not available
    per_round: list[float] = []  # per message, each round
    multiplexed: bool = False  # the kernel shared the counter: counts were scaled
    reason: str = ""  # "not available: ..." when not measured

    def describe(self) -> str:
        if self.per_message is None:
            return self.reason or "not available"
        return f"{self.per_message:,.0f} instructions per message"


class BackendRounds(msgspec.Struct, kw_only=True):
    """One backend's blocks, in round order."""

    backend: str  # as its worker names it (a `module:Class` backend's declared name)
    medians_ns: list[int] = []  # median time per message in each round's block
    messages: list[int] = []  # messages timed in each round
    instructions: InstructionCount | None = None


class RoundRatio(msgspec.Struct, kw_only=True):
    """A speed ratio against the baseline (above 1: faster), round by round and summed up."""

    backend: str
    per_round: list[float] = []
    median: float | None = None
    low: float | None = None  # the 95 % interval; None with fewer rounds than it needs
    high: float | None = None
    coverage: float | None = None  # the interval's exact coverage (0.95 or a little above)
    note: str = ""  # why there is no interval, when there is none


class InterleavedRounds(msgspec.Struct, kw_only=True):
    rounds: int  # rounds run
    messages_per_backend: int  # timed in all rounds together
    baseline: str  # the backend the ratios are against
    order_rule: str = ORDER_RULE
    orders: list[list[str]] = []  # who ran when, round by round
    interval_method: str = INTERVAL_METHOD
    address_layout: str = ""  # fixed (randomisation off) or randomized, and why
    backends: list[BackendRounds] = []
    ratios: list[RoundRatio] = []
    failed: dict[str, str] = {}  # backend -> why its rounds stopped
