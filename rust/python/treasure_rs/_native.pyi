from array import array
from collections.abc import Callable
from typing import Final

from treasure.parsers import Limits, RoutedEvent
from treasure.recording_format import Frame
from treasure.routing import RoutingSpec

DEFAULT_RELEASE_GIL_MIN_BYTES: Final[int]

class _Router:
    def __init__(
        self,
        *,
        limits: Limits | None = None,
        routing: RoutingSpec | None = None,
        release_gil_min_bytes: int = ...,
    ) -> None: ...
    def route(self, payload: bytes) -> tuple[str, ...]: ...
    def route_tuple(self, payload: bytes) -> tuple[str, ...]: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def routing(self) -> RoutingSpec: ...
    @property
    def release_gil_min_bytes(self) -> int: ...

class SerdeRouter(_Router): ...
class EventsRouter(_Router): ...

class ScanRouter(_Router):
    @property
    def fallbacks(self) -> int: ...

def _panic_for_test(message: str) -> None: ...
class UserIds:
    def __len__(self) -> int: ...

class FrameRun:
    @property
    def pos(self) -> int: ...
    @property
    def expected(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def payload_bytes(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    def __init__(
        self, frame_type: type[Frame], buf: bytes, pos: int, v2: bool, expected: int
    ) -> None: ...
    def __iter__(self) -> FrameRun: ...
    def __next__(self) -> Frame: ...
    def take_all(self) -> int: ...
    def checksum(self, crc: int) -> int: ...
    @staticmethod
    def single(
        frame_type: type[Frame], index: int, timestamp_ns: int, user_id: str, payload: bytes
    ) -> FrameRun: ...
    @staticmethod
    def user_ids(capacity: int) -> UserIds: ...
    @staticmethod
    def size_counts() -> SizeCounts: ...
    def time(
        self,
        handler: Callable[[bytes], object],
        latencies: array[int],
        at: int,
        sizes: SizeCounts,
        routed: array[int],
        routed_at: int,
        keep: Callable[..., object],
        stateless: bool,
        check_type: bool,
        most: int,
        users: UserIds | None = None,
        owns: Callable[[str], bool] | None = None,
        end: int | None = None,
    ) -> tuple[int, int, int, object, int]: ...

def read_after(fd: int, buf: bytes, pos: int, want: int, need: int) -> bytes: ...

class SizeCounts:
    def items(self) -> list[tuple[int, int]]: ...

MEMRAY_FORMAT_VERSION: int

def analyse_memray_capture(
    path: str,
    traced: int,
    begin_size: int,
    end_size: int,
    sentinel_file: str,
    mark_functions: list[str],
    handler_function: str,
    may_end_early: bool,
) -> tuple[str, Any]: ...
