"""Backends that break their process or the contract in one known way each."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from treasure.parsers import BackendKind, Limits, Routed
from treasure.routing import DEFAULT_ROUTING, RoutingSpec

RECORD: Routed = ("hostile", "p-0", "s-0")
MARKER_ENV = "TREASURE_TEST_MARKER"  # a file the Marker backend creates when started
CHILD_PID_ENV = "TREASURE_TEST_CHILD_PID"  # where SpawnsChild writes its child's pid
MEGABYTE = b"x" * (1 << 20)


class _Hostile:
    name: ClassVar[str] = "hostile"
    kind: ClassVar[BackendKind] = BackendKind.PLUGIN
    library: ClassVar[str] = ""

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        self.limits = limits
        self.routing = routing

    def route(self, payload: bytes) -> Any:
        return RECORD


class Polite(_Hostile):
    """Routes every message: the control."""

    name = "polite"


class Marker(_Hostile):
    """Creates the file named by $TREASURE_TEST_MARKER when started: proof a pass ran."""

    name = "marker"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        super().__init__(limits=limits, routing=routing)
        Path(os.environ[MARKER_ENV]).touch()


class ExitsWith3(_Hostile):
    name = "exits-with-3"

    def route(self, payload: bytes) -> Any:
        sys.exit(3)


class RaisingConstructor(_Hostile):
    name = "raising-constructor"

    def __init__(self, *, limits: Limits, routing: RoutingSpec = DEFAULT_ROUTING) -> None:
        raise RuntimeError("the licence server is unreachable")


class Segfault(_Hostile):
    name = "segfault"

    def route(self, payload: bytes) -> Any:
        return ctypes.string_at(0)  # reads address 0: SIGSEGV


class PrintsAMegabyte(_Hostile):
    """Writes 1 MiB to stdout (and a line that looks like protocol) per message."""

    name = "prints-a-megabyte"

    def route(self, payload: bytes) -> Any:
        sys.stdout.write("progress 1 1\n")
        sys.stdout.buffer.write(MEGABYTE)
        sys.stdout.flush()
        return RECORD


class SpawnsChildAndHangs(_Hostile):
    """Starts a child that keeps stdout and stderr open, then hangs."""

    name = "spawns-child-and-hangs"

    def route(self, payload: bytes) -> Any:
        child = subprocess.Popen(["sleep", "3600"])
        Path(os.environ[CHILD_PID_ENV]).write_text(str(child.pid))
        time.sleep(3600)
        return RECORD


class Hangs(_Hostile):
    """Hangs in its first message, after creating $TREASURE_TEST_MARKER if it is set."""

    name = "hangs"

    def route(self, payload: bytes) -> Any:
        if MARKER_ENV in os.environ:
            Path(os.environ[MARKER_ENV]).touch()
        time.sleep(3600)
        return RECORD


class WrongType(_Hostile):
    """Returns a plain dict: what a router needs, but not the contract's type."""

    name = "wrong-type"

    def route(self, payload: bytes) -> Any:
        return {"event_type": "a", "player_id": "p", "session_id": "s"}
