"""The parser backend contract and the registry of backends.

A backend turns one payload (the bytes of one event message) into the small record a
router needs to route it. Every failure is a `ParseError` carrying an `ErrorCategory`.
Built-in and third-party backends register the same way: the `treasure.parsers`
entry-point group, whose targets are backend classes taking `limits` as keyword.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import import_module
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from typing import Any, ClassVar, Protocol, runtime_checkable

import msgspec

from treasure.errors import BackendError

ENTRY_POINT_GROUP = "treasure.parsers"
ROUTING_FIELDS = ("event_type", "player_id", "session_id")

log = logging.getLogger(__name__)


class ErrorCategory(StrEnum):
    SYNTAX = "syntax"  # not well-formed YAML, or a truncated document
    LIMIT = "limit"  # size, depth or alias expansion over the backend's limits
    UNSAFE_TAG = "unsafe-tag"  # a tag a safe loader refuses (!!python/..., unknown local tags)
    ENCODING = "encoding"  # bytes that are not valid UTF-8
    SCHEMA = "schema"  # well-formed YAML that is not a routable event message


class ParseError(Exception):
    """The one exception type a backend raises for bad input."""

    def __init__(self, category: ErrorCategory, message: str) -> None:
        super().__init__(f"{category.value}: {message}")
        self.category = category
        self.detail = message


class RoutedEvent(msgspec.Struct, frozen=True):
    """What a router needs from one message. All three are YAML strings."""

    event_type: str
    player_id: str
    session_id: str


@dataclass(frozen=True)
class Limits:
    """Hardening limits; each backend documents which of them its library enforces."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_alias_expansion: int = 10_000  # nodes a document may expand to through aliases


class BackendKind(StrEnum):
    DOM = "dom"
    STREAM = "stream"
    TYPED = "typed"
    RUST = "rust"
    PLUGIN = "plugin"


@runtime_checkable
class Backend(Protocol):
    """The contract. `load` is optional: backends that can return the whole document."""

    name: ClassVar[str]
    kind: ClassVar[BackendKind]
    library: ClassVar[str]  # the distribution whose version is reported

    def route(self, payload: bytes) -> RoutedEvent: ...


@runtime_checkable
class DocumentBackend(Backend, Protocol):
    def load(self, payload: bytes) -> Any: ...


# Backends treasure knows of, and what to do when one is not installed.
INSTALL_HINTS: dict[str, str] = {
    "pyyaml-dom": "pip install pyyaml (with libyaml: the C loader)",
    "pyyaml-dom-pure": "pip install pyyaml",
    "ruamel-dom": "pip install ruamel.yaml ruamel.yaml.clib",
    "pyyaml-stream": "pip install pyyaml (with libyaml: the C event parser)",
    "msgspec-typed": "pip install msgspec pyyaml",
    "rust-serde": "build the Rust backend: make install (or pip install ./rust)",
    "rust-events": "build the Rust backend: make install (or pip install ./rust)",
    "rust-fastyaml": "pip install fastyaml-rs",
}

# Backends whose native allocations a heap tracer cannot see, and why.
HEAP_NOT_MEASURABLE: dict[str, str] = {}


def route_from_document(document: Any) -> RoutedEvent:
    """Pick the routing fields out of a loaded document (shared by DOM backends)."""
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise ParseError(ErrorCategory.SCHEMA, f"top level is a {kind}, not a mapping")
    values = []
    for key in ROUTING_FIELDS:
        value = document.get(key)
        if value is None:
            raise ParseError(ErrorCategory.SCHEMA, f"missing routing field {key!r}")
        if not isinstance(value, str):
            kind = type(value).__name__
            raise ParseError(ErrorCategory.SCHEMA, f"routing field {key!r} is a {kind}")
        values.append(value)
    return RoutedEvent(*values)


@dataclass
class BackendInfo:
    """What `treasure backends` shows for one backend."""

    name: str
    kind: str = "unknown"
    library: str = ""
    version: str = ""
    available: bool = False
    problem: str = ""  # why it is not available: missing package, broken plugin
    install_hint: str = ""
    heap_measurable: bool = True
    heap_note: str = "memray hooks malloc/free of every loaded library"
    source: str = "entry-point"
    factory: Callable[..., Backend] | None = field(default=None, repr=False, compare=False)


def _library_version(library: str) -> str:
    try:
        return version(library)
    except PackageNotFoundError:
        return ""


def _info_from_class(name: str, cls: Any, source: str) -> BackendInfo:
    info = BackendInfo(name=name, source=source, factory=cls, available=True)
    info.kind = str(getattr(cls, "kind", BackendKind.PLUGIN))
    info.library = str(getattr(cls, "library", ""))
    info.version = _library_version(info.library) if info.library else ""
    info.install_hint = INSTALL_HINTS.get(name, "")
    note = HEAP_NOT_MEASURABLE.get(name) or getattr(cls, "heap_not_measurable", "")
    if note:
        info.heap_measurable = False
        info.heap_note = str(note)
    return info


def _load(ep: EntryPoint) -> BackendInfo:
    """Load one entry point; a missing dependency or a broken plugin becomes its problem."""
    try:
        cls = ep.load()
    except ModuleNotFoundError as exc:
        return BackendInfo(
            name=ep.name,
            problem=f"not installed: module {exc.name!r} is missing",
            install_hint=INSTALL_HINTS.get(ep.name, f"install the package of {exc.name}"),
        )
    except Exception as exc:  # a broken plugin is reported, never fatal
        log.warning("parser backend %s failed to load: %s", ep.name, exc)
        return BackendInfo(name=ep.name, problem=f"broken plugin: {exc!r}")
    return _info_from_class(ep.name, cls, "entry-point")


def discover() -> dict[str, BackendInfo]:
    """Every backend registered in the entry-point group, loaded or with its problem."""
    found = {ep.name: _load(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name, hint in INSTALL_HINTS.items():
        found.setdefault(name, BackendInfo(name=name, problem="not installed", install_hint=hint))
    return dict(sorted(found.items()))


def available_names() -> list[str]:
    return [name for name, info in discover().items() if info.available]


def resolve(spec: str) -> BackendInfo:
    """Find a backend by registered name, or by `module:Class` for an unpackaged one.

    Only that backend's module is imported: a pass's process must not map other backends'
    libraries (the heap pass reads which libraries its backend brought in).
    """
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            cls = getattr(import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise BackendError(f"cannot load backend {spec!r}: {exc}") from exc
        return _info_from_class(str(getattr(cls, "name", spec)), cls, "module")
    registered = entry_points(group=ENTRY_POINT_GROUP)
    matching = [ep for ep in registered if ep.name == spec]
    if matching:
        info = _load(matching[0])
    elif spec in INSTALL_HINTS:
        info = BackendInfo(name=spec, problem="not installed", install_hint=INSTALL_HINTS[spec])
    else:
        known = ", ".join(sorted({ep.name for ep in registered} | set(INSTALL_HINTS)))
        raise BackendError(f"unknown backend {spec!r} (known: {known})")
    if not info.available:
        hint = f"; to install: {info.install_hint}" if info.install_hint else ""
        raise BackendError(f"backend {spec!r} is unavailable ({info.problem}){hint}")
    return info


def create(spec: str, limits: Limits | None = None) -> Backend:
    """Instantiate a backend by name or `module:Class`."""
    info = resolve(spec)
    assert info.factory is not None
    try:
        return info.factory(limits=limits or Limits())
    except ParseError:
        raise
    except Exception as exc:
        raise BackendError(f"backend {spec!r} failed to start: {exc}") from exc
