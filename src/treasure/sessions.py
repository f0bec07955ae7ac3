"""The session model: what a router keeps alive while it serves N users.

Heap at N concurrent users depends less on one message than on what stays referenced:
a router that keeps each user's whole decoded document holds N trees; one that keeps
the routed record holds N small records; a stateless one holds only the messages in
flight. `SessionModel` reproduces those three routers in-process.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

from treasure.errors import BackendError
from treasure.parsers import Backend, DocumentBackend, ParseError, route_from_document
from treasure.routing import DEFAULT_ROUTING

Keep = Literal["nothing", "record", "document"]


class Window(Protocol):
    """The last results, kept referenced: a `deque(maxlen=...)`, or the timing pass's
    native window (treasure_rs `InFlight`), which its Rust loop appends to directly."""

    def append(self, item: Any, /) -> None: ...
    def clear(self) -> None: ...


class SessionModel:
    """Per-user state for at most `users` users (oldest evicted first), plus the results of
    the last `in_flight` messages, which stay referenced as if still being handled."""

    def __init__(self, users: int, keep: Keep, in_flight: int) -> None:
        if users < 0 or in_flight < 1:
            raise ValueError("users must be >= 0 and in_flight >= 1")
        self.users = users
        self.keep = keep
        self.state: OrderedDict[str, Any] = OrderedDict()
        self.in_flight: Window = deque(maxlen=in_flight)

    def admit(self, user_id: str, handled: Any) -> None:
        self.in_flight.append(handled)
        if self.keep == "nothing":
            return
        state = self.state
        if user_id in state:
            state.move_to_end(user_id)
        state[user_id] = handled
        if self.users and len(state) > self.users:
            state.popitem(last=False)

    def clear(self) -> None:
        self.state.clear()
        self.in_flight.clear()


def handler_for(backend: Backend, keep: Keep) -> Callable[[bytes], Any]:
    """What the replay loop calls per payload: `route`, or for a router that keeps whole
    documents, `load` followed by picking the routing fields from the tree."""
    if keep != "document":
        return backend.route
    if not isinstance(backend, DocumentBackend):
        raise BackendError(
            f"backend {backend.name!r} cannot return whole documents; "
            "use --keep record or --keep nothing"
        )
    load = backend.load
    routing = getattr(backend, "routing", DEFAULT_ROUTING)

    def load_and_route(payload: bytes) -> Any:
        document = load(payload)
        route_from_document(document, routing)  # a DOM router still routes: same errors
        return document

    return load_and_route


__all__ = ["Keep", "ParseError", "SessionModel", "handler_for"]
