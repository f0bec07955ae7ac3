"""The target protocol's frames (docs/target-protocol.md): length-prefixed blobs, JSON
lines and the HTTP bodies, for both the server side and the sender side."""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any

LENGTH = struct.Struct(">I")
ROUTED = 0
# Status byte of a reply -> the category it reports (docs/target-protocol.md).
CATEGORY_OF_STATUS = {
    1: "syntax",
    2: "limit",
    3: "unsafe-tag",
    4: "encoding",
    5: "schema",
    6: "internal",
}
STATUS_OF_CATEGORY = {category: status for status, category in CATEGORY_OF_STATUS.items()}
INTERNAL = "internal"
PROTOCOL = "protocol"  # a reply that does not parse: counted by the sender, never sent
HTTP_STATUS_OF_CATEGORY = {INTERNAL: 500}  # every payload category is 422


class ProtocolError(Exception):
    """A frame that does not follow the protocol."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One decoded reply: the routed fields, or an error category and its message."""

    fields: tuple[str, ...] = ()
    category: str = ""  # empty when routed
    message: str = ""

    @property
    def routed(self) -> bool:
        return not self.category


def blob(data: bytes) -> bytes:
    return LENGTH.pack(len(data)) + data


def encode_routed(fields: tuple[str, ...]) -> bytes:
    body = b"\x00" + b"".join(blob(value.encode()) for value in fields)
    return blob(body)


def encode_error(category: str, message: str) -> bytes:
    status = STATUS_OF_CATEGORY.get(category, STATUS_OF_CATEGORY[INTERNAL])
    return blob(bytes([status]) + message.encode(errors="replace"))


def decode_reply(body: bytes) -> Reply:
    """A reply frame's body (the bytes after its length) -> Reply."""
    if not body:
        raise ProtocolError("empty reply frame")
    status = body[0]
    if status != ROUTED:
        category = CATEGORY_OF_STATUS.get(status)
        if category is None:
            raise ProtocolError(f"unknown status byte {status}")
        return Reply(category=category, message=body[1:].decode(errors="replace"))
    fields: list[str] = []
    offset = 1
    while offset < len(body):
        if offset + 4 > len(body):
            raise ProtocolError("a field's length is cut short")
        (size,) = LENGTH.unpack_from(body, offset)
        offset += 4
        if offset + size > len(body):
            raise ProtocolError("a field overruns its reply frame")
        try:
            fields.append(body[offset : offset + size].decode())
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"a field is not UTF-8: {exc}") from None
        offset += size
    return Reply(fields=tuple(fields))


def encode_line_request(payload: bytes) -> bytes:
    try:
        item: Any = payload.decode()
    except UnicodeDecodeError:
        item = {"base64": base64.b64encode(payload).decode()}
    return json.dumps(item).encode() + b"\n"


def decode_line_request(line: bytes) -> bytes:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"request line is not JSON: {exc}") from None
    if isinstance(item, str):
        return item.encode()
    if isinstance(item, dict) and isinstance(item.get("base64"), str):
        return base64.b64decode(item["base64"])
    raise ProtocolError("request line is neither a JSON string nor {'base64': ...}")


def reply_json(reply: Reply) -> bytes:
    if reply.routed:
        return json.dumps({"fields": list(reply.fields)}).encode()
    return json.dumps({"error": reply.category, "message": reply.message}).encode()


def decode_reply_json(text: bytes) -> Reply:
    try:
        item = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"reply is not JSON: {exc}") from None
    if not isinstance(item, dict):
        raise ProtocolError("reply is not a JSON object")
    fields = item.get("fields")
    if isinstance(fields, list) and all(isinstance(value, str) for value in fields):
        return Reply(fields=tuple(fields))
    category = item.get("error")
    if isinstance(category, str) and category in STATUS_OF_CATEGORY:
        return Reply(category=category, message=str(item.get("message", "")))
    raise ProtocolError("reply has neither 'fields' nor a known 'error'")


def http_status(reply: Reply) -> int:
    if reply.routed:
        return 200
    return HTTP_STATUS_OF_CATEGORY.get(reply.category, 422)
