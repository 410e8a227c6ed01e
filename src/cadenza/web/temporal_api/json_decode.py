"""Requests from JSON, the way the real server's HTTP API reads them.

The body is one JSON value (what follows it is ignored, as Go's decoder
ignores it; an empty body is an empty request). With the payload shorthand, every
``Payload`` and ``Payloads`` in it is first brought to its full proto JSON form
(``payloads``); then the proto3 JSON parser reads the request.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from cadenza.protoutil import is_repeated
from cadenza.web.temporal_api import payloads
from cadenza.web.temporal_api.binding import field_named
from cadenza.web.temporal_api.json_encode import PAYLOAD, PAYLOADS, Style

M = TypeVar("M", bound=Message)

MAX_DEPTH = 100
"""Messages nested deeper than this are refused (protobuf's own default)."""

MAX_MESSAGE_CHARS = 1000
"""An error message quotes the input; it is cut to this."""


class DecodeError(ValueError):
    """A body that is not the request's JSON."""


def decode(body: bytes, request: M, style: Style) -> M:
    """Fill ``request`` from the JSON ``body`` and return it."""
    value = _first_value(body)
    if value is None and not body.strip():
        return request
    try:
        if style.shorthand:
            value = _canonical(value, request.DESCRIPTOR, 0)
        json_format.ParseDict(value, request, max_recursion_depth=MAX_DEPTH)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        # protobuf lists every field the message has after an unknown one: the name is enough.
        said = str(error).split("\n Available Fields", 1)[0]
        raise DecodeError(f"proto: {said[:MAX_MESSAGE_CHARS]}") from None
    return request


def _first_value(body: bytes) -> Any:
    try:
        text = body.decode("utf-8").lstrip()
    except UnicodeDecodeError as error:
        raise DecodeError(f"invalid UTF-8 in request body at byte {error.start}") from None
    if not text:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as error:
        raise DecodeError(
            f"invalid character at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise DecodeError("exceeded max depth") from None
    return value


def _canonical(value: Any, descriptor: Any, depth: int) -> Any:
    """``value`` (JSON for a ``descriptor`` message) with every payload in full form."""
    if depth > MAX_DEPTH:
        raise DecodeError("exceeded max recursion depth")
    if descriptor.full_name == PAYLOAD:
        return payloads.payload_json(value)
    if descriptor.full_name == PAYLOADS:
        return _payloads(value, descriptor, depth)
    if not isinstance(value, dict) or descriptor.full_name.startswith("google.protobuf."):
        return value
    out = {}
    for key, item in value.items():
        field = field_named(descriptor, key)
        out[key] = item if field is None else _field(field, item, depth)
    return out


def _payloads(value: Any, descriptor: Any, depth: int) -> Any:
    """A JSON array is the shorthand of a ``Payloads`` (``null`` of an empty one); an object is
    its full form, whose elements may each be shorthand."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {"payloads": [payloads.payload_json(item) for item in value]}
    if isinstance(value, dict):
        return {
            key: _field(descriptor.fields_by_name["payloads"], item, depth) if key == "payloads" else item
            for key, item in value.items()
        }
    return value


def _field(field: Any, value: Any, depth: int) -> Any:
    message_type = field.message_type
    if message_type is None:
        return value
    if message_type.GetOptions().map_entry:
        value_type = message_type.fields_by_name["value"].message_type
        if value_type is None or not isinstance(value, dict):
            return value
        return {key: _canonical(item, value_type, depth + 1) for key, item in value.items()}
    if is_repeated(field) and isinstance(value, list):
        return [_canonical(item, message_type, depth + 1) for item in value]
    return _canonical(value, message_type, depth + 1)
