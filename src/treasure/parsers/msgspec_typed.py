"""`msgspec-typed`: decode into a msgspec Struct schema of the routing fields.

msgspec's YAML support loads with PyYAML's C loader and then converts, so the tree is
still built; only the conversion into the typed record is msgspec's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from treasure.parsers import BackendKind, ErrorCategory, Limits, ParseError, RoutedEvent
from treasure.parsers._limits import precheck


class _EventMessage(msgspec.Struct):
    event_type: str
    player_id: str
    session_id: str


def _classify(exc: msgspec.DecodeError) -> ParseError:
    text = " ".join(str(exc).split())
    if "could not determine a constructor for the tag" in text:
        return ParseError(ErrorCategory.UNSAFE_TAG, text)
    if "maximum recursion depth" in text:
        return ParseError(ErrorCategory.LIMIT, text)
    return ParseError(ErrorCategory.SYNTAX, text)


class MsgspecTypedBackend:
    name: ClassVar[str] = "msgspec-typed"
    kind: ClassVar[BackendKind] = BackendKind.TYPED
    library: ClassVar[str] = "msgspec"

    def __init__(self, *, limits: Limits) -> None:
        self.limits = limits

    def route(self, payload: bytes) -> RoutedEvent:
        precheck(payload, self.limits)
        try:
            message = msgspec.yaml.decode(payload, type=_EventMessage)
        except msgspec.ValidationError as exc:
            raise ParseError(ErrorCategory.SCHEMA, str(exc)) from None
        except msgspec.DecodeError as exc:
            raise _classify(exc) from None
        except RecursionError:
            raise ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser") from None
        return RoutedEvent(message.event_type, message.player_id, message.session_id)

    def load(self, payload: bytes) -> Any:
        precheck(payload, self.limits)
        try:
            return msgspec.yaml.decode(payload)
        except msgspec.DecodeError as exc:
            raise _classify(exc) from None
        except RecursionError:
            raise ParseError(ErrorCategory.LIMIT, "nesting too deep for the parser") from None
