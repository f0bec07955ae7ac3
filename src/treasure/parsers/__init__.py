"""The parser backend contract and the registry of backends.

A backend turns one payload (the bytes of one event message) into the small record a
router needs to route it. Every failure is a `ParseError` carrying an `ErrorCategory`.
Built-in and third-party backends register the same way: the `treasure.parsers`
entry-point group, whose targets are backend classes.

How a backend receives the routing spec: it is constructed as
`cls(limits=Limits(...), routing=RoutingSpec(...))` (both keywords; `treasure.routing`
holds the spec type), and `route(payload)` returns a tuple of the spec's fields' strings, in
the spec's order (docs/routing.md says what each field's value must be). A plugin class
whose constructor takes no `routing=` keyword still works with the default spec
(`event_type,player_id,session_id`); asking it for another spec is a clear `BackendError`,
never a silent mis-route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import import_module
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from inspect import Parameter, signature
from typing import Any, ClassVar, Protocol, runtime_checkable

import msgspec

from treasure.errors import BackendError
from treasure.routing import DEFAULT_ROUTING, FieldKind, RoutingSpec

ENTRY_POINT_GROUP = "treasure.parsers"

# What `route()` returns: the routing fields' strings in the spec's order.
Routed = tuple[str, ...]

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
    """The three-field record of backends built before the routing spec existed.

    Kept only so such a backend (a compiled one imports it by name) still runs: `create()`
    turns its result into the contract's tuple. New backends return `Routed`.
    """

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
    CONTENDER = "contender"  # a library a user could route with instead (the extra)


@runtime_checkable
class Backend(Protocol):
    """The contract. `load` is optional: backends that can return the whole document."""

    name: ClassVar[str]
    kind: ClassVar[BackendKind]
    library: ClassVar[str]  # the distribution whose version is reported

    def route(self, payload: bytes) -> Routed: ...


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
    "rapidyaml": "pip install 'treasure[contenders]' (or pip install rapidyaml)",
    "pyrs-yaml": "pip install 'treasure[contenders]' (or pip install pyrs-yaml)",
    "libfyaml": "pip install 'treasure[contenders]' (or pip install --pre libfyaml)",
    "msgspec-json": "pip install msgspec",
}

# Backends whose native allocations a heap tracer cannot see, and why.
HEAP_NOT_MEASURABLE: dict[str, str] = {
    "libfyaml": (
        "libfyaml's allocator maps 64 KiB blocks and shrinks them with mremap, which memray"
        " does not hook: it counts ~120 KiB a message as never freed while RSS stays flat"
    ),
}


def route_from_document(document: Any, routing: RoutingSpec = DEFAULT_ROUTING) -> Routed:
    """Pick the routing fields out of a loaded document (shared by DOM backends)."""
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise ParseError(ErrorCategory.SCHEMA, f"top level is a {kind}, not a mapping")
    values = []
    for field_spec in routing.fields:
        node: Any = document
        for depth, step in enumerate(field_spec.path):
            if not isinstance(node, dict):
                parent = ".".join(field_spec.path[:depth])
                kind = type(node).__name__
                raise ParseError(ErrorCategory.SCHEMA, f"{parent!r} is a {kind}, not a mapping")
            if step not in node:
                raise ParseError(
                    ErrorCategory.SCHEMA, f"missing routing field {field_spec.dotted!r}"
                )
            node = node[step]
        values.append(_field_text(node, field_spec.dotted, field_spec.kind))
    return tuple(values)


def _field_text(value: Any, name: str, kind: FieldKind) -> str:
    if isinstance(value, str):
        return value
    if kind is FieldKind.SCALAR and value is not None and not isinstance(value, dict | list):
        return str(value)
    type_name = "null" if value is None else type(value).__name__
    raise ParseError(ErrorCategory.SCHEMA, f"routing field {name!r} is a {type_name}")


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
    payload_format: str = "yaml"  # what its payloads are: "json" for a JSON-only backend
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
    info.payload_format = str(getattr(cls, "payload_format", "yaml"))
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


def available_names(payload_format: str | None = "yaml") -> list[str]:
    """The backends that load, of those reading `payload_format` (None: every one)."""
    return [
        name
        for name, info in discover().items()
        if info.available and payload_format in (None, info.payload_format)
    ]


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


def accepts_routing(factory: Callable[..., Any]) -> bool:
    """Whether a backend class takes the `routing=` keyword (the contract since the spec)."""
    try:
        params = signature(factory).parameters.values()
    except (TypeError, ValueError):  # a compiled class may publish no signature
        return True  # tried, and a TypeError naming `routing` tells otherwise
    return any(p.name == "routing" or p.kind is Parameter.VAR_KEYWORD for p in params)


class DefaultSpecOnly:
    """A backend whose class predates `routing=`: it routes the default spec, and its
    three-field record (`RoutedEvent` or alike) is turned into the contract's tuple."""

    def __init__(self, backend: Any) -> None:
        self.wrapped = backend
        self.name = backend.name
        self.kind = backend.kind
        self.library = backend.library
        as_tuple = getattr(backend, "route_tuple", None)
        # a compiled route_tuple is called directly: no Python frame per message
        self.route: Callable[[bytes], Routed] = as_tuple if callable(as_tuple) else self._route

    def _route(self, payload: bytes) -> Routed:
        routed = self.wrapped.route(payload)
        if isinstance(routed, tuple):
            return routed
        return tuple(getattr(routed, name) for name in DEFAULT_ROUTING.names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def create(spec: str, limits: Limits | None = None, routing: RoutingSpec | None = None) -> Backend:
    """Instantiate a backend by name or `module:Class`, for the routing spec given."""
    info = resolve(spec)
    assert info.factory is not None
    routing = routing or DEFAULT_ROUTING
    limits = limits or Limits()
    try:
        if accepts_routing(info.factory):
            try:
                backend: Backend = info.factory(limits=limits, routing=routing)
            except TypeError as exc:
                if "routing" not in str(exc):
                    raise
                return _default_spec_only(spec, info, limits, routing)
            return backend
        return _default_spec_only(spec, info, limits, routing)
    except (ParseError, BackendError):
        raise
    except Exception as exc:
        raise BackendError(f"backend {spec!r} failed to start: {exc}") from exc


def _default_spec_only(
    spec: str, info: BackendInfo, limits: Limits, routing: RoutingSpec
) -> Backend:
    if routing != DEFAULT_ROUTING:
        raise BackendError(
            f"backend {spec!r} takes no routing= keyword, so it routes only the default "
            f"spec {DEFAULT_ROUTING}, not {routing}"
        )
    assert info.factory is not None
    return DefaultSpecOnly(info.factory(limits=limits))  # type: ignore[return-value]
