"""Temporal's payload shorthand: a payload as the JSON value it holds.

On output, as the real server writes it: a ``Payload`` whose only metadata is
``encoding: json/plain`` is shown as its JSON value; a ``json/protobuf`` one
with only its ``messageType`` as its JSON object with ``_protoMessageType``
added; a ``binary/null`` one as ``{"metadata": {"encoding": <binary/null>}}``
(so is a ``json/plain`` payload holding ``null``); any other in its full
``{metadata, data}`` form. ``Payloads`` whose payloads all have a shorthand
become a JSON array of them, otherwise ``{"payloads": [...]}`` with each payload
on its own. Values pass through Go's ``encoding/json`` there and come out as
Go writes them: numbers as float64 (``1.0`` is ``1``), object keys sorted, an
empty array written as ``null``.

On input a value that is not a payload in full form becomes a ``json/plain``
payload of it, ``null`` becomes ``binary/null``, and an object naming
``_protoMessageType`` becomes a ``json/protobuf`` payload of that type.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from temporalio.api.common.v1 import Payload

JSON_PLAIN = b"json/plain"
JSON_PROTOBUF = b"json/protobuf"
BINARY_NULL = b"binary/null"
BINARY_NULL_BASE64 = base64.b64encode(BINARY_NULL).decode()
MESSAGE_TYPE_KEY = "_protoMessageType"

EXACT_FLOAT_INTS = 2.0**53
"""Below this a whole float64 is an integer exactly, so its digits are the integer's."""

GO_PLAIN_FLOAT_LIMIT = 1e21
"""Go writes a float64 in plain digits below this magnitude, in exponent form from it on."""


class NotShorthand(Exception):
    """The payload has no shorthand: it is written in full."""


def payload_value(payload: Payload) -> Any:
    """The JSON a payload is shown as in shorthand.

    Raises ``NotShorthand`` for a payload written in full, and ValueError when a
    ``json/plain`` or ``json/protobuf`` payload's data is not the JSON it claims.
    """
    metadata = payload.metadata
    encoding = metadata.get("encoding")
    if encoding == BINARY_NULL:
        return go_value(None)
    if encoding == JSON_PLAIN and len(metadata) == 1:
        return go_value(_json(payload.data))
    if encoding == JSON_PROTOBUF and metadata.get("messageType") and len(metadata) == 2:
        message = _json(payload.data)
        if message is None:
            return {}  # Go reads ``null`` into a nil map and writes it as an empty object
        if not isinstance(message, dict):
            raise ValueError(f"json: cannot unmarshal {type(message).__name__} into an object")
        return go_value({**message, MESSAGE_TYPE_KEY: metadata["messageType"].decode(errors="replace")})
    raise NotShorthand


def _json(data: bytes) -> Any:
    return json.loads(data, parse_int=float, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON value {name}")


def go_value(value: Any) -> Any:
    """A JSON value as a Temporal encoder writes what Go's ``encoding/json`` read into ``any``.

    Numbers are float64 (written without a fraction when whole), object keys are sorted,
    empty arrays are ``null``, and a value that is ``null`` itself is written as the
    ``binary/null`` payload.
    """
    if value is None:
        return {"metadata": {"encoding": BINARY_NULL_BASE64}}
    return _go_inner(value)


def _go_inner(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _go_inner(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_go_inner(item) for item in value] if value else None
    if isinstance(value, float):
        return go_number(value)
    return value


def go_number(number: float) -> int | float:
    """A float64 as Go writes it: whole numbers below 1e21 in plain digits (as ``int``)."""
    if number.is_integer() and abs(number) < GO_PLAIN_FLOAT_LIMIT:
        if abs(number) < EXACT_FLOAT_INTS:
            return int(number)
        # Past 2**53 Go writes the shortest digits that read back as the same float64.
        whole = int(Decimal(repr(number)))
        # A whole number past 64 bits stays a float: the JSON writer takes no wider ints.
        return whole if -(2**63) <= whole < 2**64 else number
    return number


def payload_json(value: Any) -> dict[str, Any]:
    """The full proto JSON form of the payload a shorthand value stands for."""
    if value is None:
        return {"metadata": {"encoding": BINARY_NULL_BASE64}}
    if isinstance(value, dict):
        full = _full_form(value)
        if full is not None:
            return full
        if MESSAGE_TYPE_KEY in value:
            message_type = value[MESSAGE_TYPE_KEY]
            if not isinstance(message_type, str):
                raise ValueError(
                    f'internal key "{MESSAGE_TYPE_KEY}" should have type string, not {type(message_type).__name__}'
                )
            data = {key: item for key, item in value.items() if key != MESSAGE_TYPE_KEY}
            return {
                "metadata": {
                    "encoding": _b64(JSON_PROTOBUF),
                    "messageType": _b64(message_type.encode()),
                },
                "data": _b64(go_json(data)),
            }
    return {"metadata": {"encoding": _b64(JSON_PLAIN)}, "data": _b64(go_json(value))}


def _full_form(value: dict[str, Any]) -> dict[str, Any] | None:
    """``value`` when it is a payload in full form (metadata with an encoding, and data), else None."""
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or "encoding" not in metadata:
        return None
    if "data" not in value and metadata["encoding"] == BINARY_NULL_BASE64:
        return {"metadata": {"encoding": BINARY_NULL_BASE64}}
    if set(value) != {"metadata", "data"} or not isinstance(value["data"], str):
        return None
    if _base64(value["data"]) is None:
        return None
    if not all(isinstance(item, str) and _base64(item) is not None for item in metadata.values()):
        return None
    return {
        "metadata": {key: _b64(_base64(item) or b"") for key, item in metadata.items()},
        "data": _b64(_base64(value["data"]) or b""),
    }


def _base64(text: str) -> bytes | None:
    """Bytes from standard or URL-safe base64, padded or not; None when it is neither."""
    alphabet = b"-_" if "-" in text or "_" in text else None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def go_json(value: Any) -> bytes:
    """A shorthand value as the real server stores it: read as Temporal's decoder reads it
    (``_as_read``), written as Go's ``json.Marshal`` writes it (compact, keys sorted, ``<>&``
    escaped)."""
    text = json.dumps(_as_read(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _as_read(value: Any) -> Any:
    """A JSON value as Temporal's decoder reads a shorthand one: an empty array is nil (so
    stored as ``null``), an integer past 64 bits a float64."""
    if isinstance(value, dict):
        return {key: _as_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_read(item) for item in value] if value else None
    if isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool) and not _int64(value)
    ):
        return go_number(float(value))
    return value


def _int64(number: int) -> bool:
    return -(2**63) <= number < 2**63
