"""How a replay is run: `ReplayConfig`, its defaults and its checks, the one description the
command line, the library and every result share."""

from __future__ import annotations

from typing import Literal

import msgspec

from treasure.disk_budget import parse_capture_budget
from treasure.errors import ConfigError, TreasureError
from treasure.growth.soak import SoakConfig
from treasure.pacing import Pacer
from treasure.routing import DEFAULT_ROUTING, RoutingSpec
from treasure.shards import check_sharding

Keep = Literal["nothing", "record", "document"]
DEFAULT_WARMUP = 50
DEFAULT_HEAP_MESSAGES = 2000
DEFAULT_CPU_RATE_HZ = 100
DEFAULT_START_TIMEOUT_S = 120.0
# Rounds of a comparison's interleaved timing: 6 is the fewest whose order-statistic interval
# reaches 95 %, 9 the fewest whose interval leaves out the most extreme round at each end, so
# one round another job spoiled cannot set it; 10 keeps 100-message blocks at --limit 1000.
DEFAULT_ROUNDS = 10


TRANSPORTS = ("inproc", "unix", "tcp", "http")


class ReplayConfig(msgspec.Struct, kw_only=True):
    """How a replay is run, every pass included: recorded whole in each result, it is
    enough to run it again (`treasure replay --rerun RESULT.json`). The defaults and the
    checks below are the only ones: the command line and the library both build this."""

    backend: str  # a registered name or `module:Class`; "" in a comparison's template
    recording: str
    limit: int | None = None  # measure at most this many messages
    warmup: int = DEFAULT_WARMUP  # messages sent first and not measured
    pace: str = "max"  # max | original | original:K | rate:N/s
    users: int = 0  # users whose state the session model keeps; 0: every user
    keep: Keep = "nothing"  # what the session model keeps per user
    in_flight: int = 1  # messages whose results stay referenced at once
    fail_fast: bool = False  # stop at the first malformed message
    heap: bool = False  # a heap pass under memray
    heap_messages: int = DEFAULT_HEAP_MESSAGES  # messages the heap pass traces
    cpu: bool = False  # a CPU pass under py-spy
    cpu_rate_hz: int = DEFAULT_CPU_RATE_HZ  # py-spy samples per second
    pass_timeout_s: float | None = None  # a pass still running after this is killed
    start_timeout_s: float | None = DEFAULT_START_TIMEOUT_S  # killed if its backend has not
    # started by then (a plugin hanging at import)
    artefacts: str = ""  # where captures and profiles go; "": beside the result file
    capture_budget: str = ""  # the heap capture's disk budget, e.g. "512 MiB"; "": default
    # A live service instead of the backend in this process (docs/target-protocol.md):
    # `transport` serves `backend` with `treasure serve` on a socket of that kind (a
    # comparison's template may list several, comma-separated); `target` is the address
    # of a router already there or started by `spawn`.
    transport: str = "inproc"  # inproc | unix | tcp | http
    target: str = ""  # unix:PATH | tcp:HOST:PORT | http://HOST:PORT/PATH
    spawn: str = ""  # the command that starts the target; stopped at the end
    target_pid: int | None = None  # a running target to sample (RSS, CPU)
    connections: int = 1  # connections to the target, messages spread round-robin
    framing: Literal["length", "lines"] = "length"  # on unix/tcp: length prefixes or JSON lines
    reply_timeout_s: float = 5.0  # a target silent this long with messages pending has failed
    # The routing spec (docs/routing.md), `PATH[:KIND],...`; "" is the default spec. Stored
    # spelled out, so two results routed alike compare equal.
    routing: str = ""
    # Sharding (treasure.shards): `shard` "i/N" replays shard i of N alone ("auto/N" takes
    # i from $JOB_COMPLETION_INDEX and is stored resolved); `shards` N > 0 runs N shards
    # on a Dask cluster (`cluster`, a scheduler address; "": a local one) and merges them.
    shard: str = ""
    shards: int = 0
    cluster: str = ""
    # a shard's start shared with the other shards (epoch seconds or ISO 8601 UTC): its
    # timed loop waits for it, for N processes started apart (a Kubernetes Indexed Job)
    start_at: str = ""
    soak: SoakConfig | None = None  # `treasure soak`: how long, and how growth is judged
    rounds: int = DEFAULT_ROUNDS  # compare: interleaved rounds of blocks per backend (0: none)

    def __post_init__(self) -> None:
        try:
            self.routing = str(RoutingSpec.parse(self.routing) if self.routing else DEFAULT_ROUTING)
        except ValueError as exc:
            raise ConfigError("routing", str(exc)) from None
        _check_at_least(self, "limit", 1, optional=True)
        _check_at_least(self, "warmup", 0)
        _check_at_least(self, "users", 0)
        _check_at_least(self, "in_flight", 1)
        _check_at_least(self, "heap_messages", 1)
        _check_at_least(self, "cpu_rate_hz", 1)
        if self.capture_budget:
            try:
                parse_capture_budget(self.capture_budget)
            except ValueError as exc:
                raise ConfigError("capture_budget", str(exc)) from None
        _check_at_least(self, "rounds", 0)
        if self.keep not in ("nothing", "record", "document"):
            raise ConfigError("keep", f"{self.keep!r} is not one of nothing, record, document")
        for name in ("pass_timeout_s", "start_timeout_s"):
            seconds = getattr(self, name)
            if seconds is not None and not seconds > 0:
                raise ConfigError(name, f"{seconds!r} is not above 0 s")
        _check_at_least(self, "connections", 1)
        _check_at_least(self, "shards", 0)
        self.shard = check_sharding(
            self.shard, self.shards, self.cluster, self.served,
            spawn=self.spawn, start_at=self.start_at, pace=self.pace,
        )  # fmt: skip
        if self.framing not in ("length", "lines"):
            raise ConfigError("framing", f"{self.framing!r} is not one of length, lines")
        transports = self.transport.split(",")
        if not transports or any(t not in TRANSPORTS for t in transports):
            raise ConfigError("transport", f"{self.transport!r}: use {', '.join(TRANSPORTS)}")
        if self.served:
            return  # ramps and steps are a target's paces: its schedule checks them
        try:
            Pacer.parse(self.pace)
        except TreasureError as exc:
            raise ConfigError("pace", str(exc)) from exc

    @property
    def routing_spec(self) -> RoutingSpec:
        return RoutingSpec.parse(self.routing)

    @property
    def served(self) -> bool:
        """Whether messages go to a live service rather than the backend in process."""
        return bool(self.target) or self.transport != "inproc"


def _check_at_least(config: ReplayConfig, name: str, low: int, optional: bool = False) -> None:
    value = getattr(config, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(name, f"{value!r} is not a whole number >= {low}")
