"""Messages as JSON, the way the real server's HTTP API writes them.

Proto3 JSON as Go's ``protojson`` writes it: camelCase field names in
declaration order, enums by name, 64-bit integers as strings, bytes in
base64, well-known types in their JSON forms, map keys sorted, zero values
left out. A ``Style`` says the rest: the payload shorthand (``payloads``) or not,
indented or not.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from cadenza.protoutil import is_repeated
from cadenza.web.temporal_api import payloads

PAYLOAD = "temporal.api.common.v1.Payload"
PAYLOADS = "temporal.api.common.v1.Payloads"

_STRING_INTS = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_AS_JSON_STRING = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)
_AS_DICT = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})
_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)


@dataclass(frozen=True)
class Style:
    """How one of the real server's marshalers writes and reads JSON."""

    content_type: str
    shorthand: bool
    """Payloads as the JSON values they hold."""
    pretty: bool = False


class EncodeError(ValueError):
    """A message that cannot be written as JSON (a payload said to be JSON that is not)."""


def encode(message: Message, style: Style) -> bytes:
    """``message`` as JSON text in ``style``."""
    try:
        value = to_json_value(message, style)
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise EncodeError(str(error) or type(error).__name__) from error
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if style.pretty else 0)
    except orjson.JSONEncodeError:
        # orjson stops at 255 levels; a payload's JSON may nest deeper, as Go's writer allows.
        return _deep_dumps(value, style)


def _deep_dumps(value: Any, style: Style) -> bytes:
    try:
        if style.pretty:
            return json.dumps(value, ensure_ascii=False, indent=2).encode()
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except RecursionError as error:
        raise EncodeError("the answer nests too deep to be written as JSON") from error


def to_json_value(message: Message, style: Style) -> Any:
    """``message`` as the JSON value (dicts, lists, strings...) ``style`` writes for it."""
    name = message.DESCRIPTOR.full_name
    if name in _AS_JSON_STRING:
        return message.ToJsonString()  # type: ignore[attr-defined]
    if name in _AS_DICT:
        return json_format.MessageToDict(message)
    if name in _WRAPPERS:
        return _scalar(message.DESCRIPTOR.fields_by_name["value"], message.value)  # type: ignore[attr-defined]
    if name == "google.protobuf.Any":
        return _any(message, style)
    if style.shorthand and name in (PAYLOAD, PAYLOADS):
        try:
            return _shorthand(message)
        except payloads.NotShorthand:
            pass
    return {field.json_name: _field(field, value, style) for field, value in _fields(message)}


def _shorthand(message: Message) -> Any:
    if message.DESCRIPTOR.full_name == PAYLOAD:
        return payloads.payload_value(message)  # type: ignore[arg-type]
    # Every payload must have a shorthand for the list to be one; an empty list is ``[]``.
    return [payloads.payload_value(item) for item in message.payloads]  # type: ignore[attr-defined]


def _fields(message: Message) -> list[tuple[Any, Any]]:
    """The fields set, in declaration order."""
    return sorted(message.ListFields(), key=lambda item: item[0].index)


def _field(field: Any, value: Any, style: Style) -> Any:
    shape, value_field = _shape(field)
    if shape is _MAP:
        return {_map_key(key): _single(value_field, value[key], style) for key in sorted(value)}
    if shape is _LIST:
        return [_single(field, item, style) for item in value]
    return _single(field, value, style)


_MAP, _LIST, _SINGLE = "map", "list", "single"


@functools.cache
def _shape(field: Any) -> tuple[str, Any]:
    """Whether a field is a map (and its value field), a list or a single value; asked once each."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _MAP, field.message_type.fields_by_name["value"]
    return (_LIST if is_repeated(field) else _SINGLE), None


def _single(field: Any, value: Any, style: Style) -> Any:
    if field.message_type is not None:
        return to_json_value(value, style)
    return _scalar(field, value)


def _map_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _scalar(field: Any, value: Any) -> Any:
    kind = field.type
    if kind in _STRING_INTS:
        return str(value)
    if kind == FieldDescriptor.TYPE_ENUM:
        named = field.enum_type.values_by_number.get(value)
        return named.name if named is not None else value
    if kind == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _float(value)
    if kind == FieldDescriptor.TYPE_FLOAT:
        return _float(_shortest_float32(value))
    return value


def _float(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return payloads.go_number(value)


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32, as Go writes a ``float`` field."""
    if not math.isfinite(value):
        return value
    packed = struct.pack("<f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return value


def _any(message: Message, style: Style) -> Any:
    type_url: str = message.type_url  # type: ignore[attr-defined]
    if not type_url:
        return {}
    inner_descriptor = descriptor_pool.Default().FindMessageTypeByName(type_url.rsplit("/", 1)[-1])
    inner = message_factory.GetMessageClass(inner_descriptor)()
    message.Unpack(inner)  # type: ignore[attr-defined]
    value = to_json_value(inner, style)
    if not isinstance(value, dict) or inner_descriptor.full_name in _AS_DICT:
        return {"@type": type_url, "value": value}
    return {"@type": type_url, **value}
