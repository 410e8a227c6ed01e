"""Path variables and query parameters bound to request fields, as grpc-gateway binds them.

A name is a dotted path of proto or JSON field names (``execution.runId``); a
value is parsed by the field's type with grpc-gateway's rules (Go's number and
boolean syntax, enums by name or number, bytes in base64, timestamps in RFC 3339,
durations in Go's ``1m30s`` form). A name no field has is ignored, as there
(``pretty``, ``noPayloadShorthand``); a value that does not parse is refused.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from cadenza.protoutil import is_repeated


class BindingError(ValueError):
    """A path or query value that does not fit its field."""


_INT_BITS = {
    FieldDescriptor.TYPE_INT32: (32, True),
    FieldDescriptor.TYPE_SINT32: (32, True),
    FieldDescriptor.TYPE_SFIXED32: (32, True),
    FieldDescriptor.TYPE_INT64: (64, True),
    FieldDescriptor.TYPE_SINT64: (64, True),
    FieldDescriptor.TYPE_SFIXED64: (64, True),
    FieldDescriptor.TYPE_UINT32: (32, False),
    FieldDescriptor.TYPE_FIXED32: (32, False),
    FieldDescriptor.TYPE_UINT64: (64, False),
    FieldDescriptor.TYPE_FIXED64: (64, False),
}
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # Go accepts the micro sign and the Greek mu for u
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)


def field_named(descriptor: Any, name: str) -> Any:
    """The field called ``name`` by its proto name or its JSON name."""
    found = descriptor.fields_by_name.get(name)
    if found is not None:
        return found
    return next((f for f in descriptor.fields if f.json_name == name), None)


def bind_path(message: Message, field_path: str, value: str) -> None:
    """Set the field a path variable names (always a known one: the template says so)."""
    try:
        _bind(message, field_path, [value])
    except BindingError as error:
        raise BindingError(f"type mismatch, parameter: {field_path}, error: {error}") from None


def bind_query(message: Message, params: Iterable[tuple[str, str]], skip: Iterable[str] = ()) -> None:
    """Set the fields query parameters name; ``skip`` are those a path variable already set."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    skipped = set(skip)
    for name, given in values.items():
        if name not in skipped:
            _bind(message, name, given)


def _bind(message: Message, dotted: str, values: list[str]) -> None:
    names = dotted.split(".")
    target = message
    for depth, name in enumerate(names):
        field = field_named(target.DESCRIPTOR, name)
        if field is None:
            return  # not a field of the request: a parameter meant for someone else
        if depth == len(names) - 1:
            _set(target, field, values, dotted)
            return
        if field.message_type is None or is_repeated(field):
            raise BindingError(f"invalid path: {name!r} is not a message")
        target = getattr(target, field.name)


def _set(message: Message, field: Any, values: list[str], name: str) -> None:
    if is_repeated(field) and field.message_type is not None and field.message_type.GetOptions().map_entry:
        raise BindingError(f"unsupported field type for {name!r}: map")
    if not is_repeated(field) and len(values) > 1:
        raise BindingError(f'too many values for field "{field.name}": {", ".join(values)}')
    try:
        _set_values(message, field, values)
    except BindingError as error:
        raise BindingError(f'parsing field "{field.name}": {error}') from None


def _set_values(message: Message, field: Any, values: list[str]) -> None:
    if is_repeated(field):
        repeated = getattr(message, field.name)
        for value in values:
            if field.message_type is None:
                repeated.append(_scalar(field, value))
            else:
                _message_value(repeated.add(), value)
    elif field.message_type is None:
        setattr(message, field.name, _scalar(field, values[0]))
    else:
        _message_value(getattr(message, field.name), values[0])


def _scalar(field: Any, value: str) -> object:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return value
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool(value)
    if kind in _INT_BITS:
        return _int(value, *_INT_BITS[kind])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _float(value)
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes(value)
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum(field, value)
    raise BindingError(f"unsupported field type {kind}")


def _bool(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BindingError(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _int(value: str, bits: int, signed: bool) -> int:
    parser = "ParseInt" if signed else "ParseUint"
    if not re.fullmatch(r"[+-]?[0-9]+" if signed else r"\+?[0-9]+", value):
        raise BindingError(f'strconv.{parser}: parsing "{value}": invalid syntax')
    number = int(value)
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    if not low <= number <= high:
        raise BindingError(f'strconv.{parser}: parsing "{value}": value out of range')
    return number


def _float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BindingError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from None
    if math.isinf(number) and value.lower().lstrip("+-") not in ("inf", "infinity"):
        raise BindingError(f'strconv.ParseFloat: parsing "{value}": value out of range')
    return number


def _bytes(value: str) -> bytes:
    alphabet = "-_" if "-" in value or "_" in value else "+/"
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(padded, altchars=alphabet.encode(), validate=True)
    except (binascii.Error, ValueError):
        allowed = set(string.ascii_letters + string.digits + alphabet + "=")
        at = next((i for i, char in enumerate(value) if char not in allowed), len(value))
        raise BindingError(f"illegal base64 data at input byte {at}") from None


def _enum(field: Any, value: str) -> int:
    enum = field.enum_type
    named = enum.values_by_name.get(value)
    if named is not None:
        return int(named.number)
    try:
        number = _int(value, 32, True)
    except BindingError:
        raise BindingError(f"{value!r} is not a valid value") from None
    if number not in enum.values_by_number:
        raise BindingError(f"{value!r} is not a valid value")
    return number


def _message_value(message: Message, value: str) -> None:
    """Well-known types given as one string; other messages cannot be."""
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        try:
            message.FromJsonString(value)  # type: ignore[attr-defined]
        except ValueError as error:
            raise BindingError(f'parsing time "{value}": {error}') from None
    elif name == "google.protobuf.Duration":
        seconds = go_duration(value)
        message.FromNanoseconds(round(seconds * 1e9))  # type: ignore[attr-defined]
    elif name == "google.protobuf.FieldMask":
        message.paths.extend(p for p in value.split(",") if p)  # type: ignore[attr-defined]
    elif name in _WRAPPERS:
        inner = message.DESCRIPTOR.fields_by_name["value"]
        message.value = _scalar(inner, value)  # type: ignore[attr-defined]
    else:
        raise BindingError(f'unsupported message type: "{name}"')


def go_duration(text: str) -> float:
    """Seconds in a Go duration (``1h2m3.5s``, ``300ms``, ``-1.5h``, ``0``)."""
    sign, rest = (-1.0, text[1:]) if text.startswith("-") else (1.0, text.removeprefix("+"))
    if rest == "0":
        return 0.0
    total, position = 0.0, 0
    for unit in _GO_DURATION.finditer(rest):
        if unit.start() != position or unit.group(1) in ("", "."):
            break
        total += float(unit.group(1)) * _GO_DURATION_UNITS[unit.group(2)]
        position = unit.end()
    if position != len(rest) or not rest:
        raise BindingError(f'time: invalid duration "{text}"')
    return sign * total
