"""Search attributes as they enter: names, types, counts and sizes, as Temporal checks them.

Every place a workflow or schedule is given search attributes (start,
signal-with-start, update-with-start, schedules and their actions, the upsert,
child and continue-as-new commands) checks them here, so an invalid value never
reaches a run's state or the store. A valid value is marked with its registered
type (the payload's ``type`` metadata), as Temporal marks it, so SDKs can read
it back as a typed search attribute.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import Payload, SearchAttributes

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs

_INT64 = 2**63
_SHOWN_VALUE_CHARS = 200
"""An invalid value is quoted in the error this far at most, so errors stay small."""


@dataclass(frozen=True)
class SearchAttributeLimits:
    """Temporal's frontend.searchAttributes* limits, with its defaults."""

    number_of_keys: int = 100
    size_of_value: int = 2 * 1024
    total_size: int = 40 * 1024


class SearchAttributeSizeError(InvalidArgumentError):
    """Search attributes over a size limit: a command carrying them ends its workflow."""


@dataclass(frozen=True)
class Rules:
    """What search attributes given in one namespace are checked against."""

    namespace: str
    types: dict[str, int]
    """The namespace's custom attributes and their types."""
    limits: SearchAttributeLimits = SearchAttributeLimits()

    def type_of(self, name: str) -> int | None:
        return self.types.get(name, attrs.SYSTEM_CUSTOM.get(name))


def check(given: SearchAttributes, rules: Rules) -> None:
    """Refuse invalid search attributes with Temporal's errors; mark valid ones with their type."""
    check_values(given, rules)
    check_sizes(given, rules.limits)


def check_values(given: SearchAttributes, rules: Rules) -> None:
    """Each name must be settable and registered, each value of its registered type."""
    for name, payload in given.indexed_fields.items():
        if name in attrs.BUILT_IN or name in attrs.SERVER_SET:
            raise InvalidArgumentError(f"{name} attribute can't be set in SearchAttributes")
        kind = rules.type_of(name)
        if kind is None:
            raise InvalidArgumentError(
                f"Namespace {rules.namespace} has no mapping defined for search attribute {name}"
            )
        _check_value(name, kind, payload)
        if not _is_unset(payload):
            payload.metadata["type"] = attrs.TYPE_NAMES[kind].encode()


def check_sizes(given: SearchAttributes, limits: SearchAttributeLimits) -> None:
    """The number of attributes, each value's size and their total size, within the limits."""
    count = len(given.indexed_fields)
    if count > limits.number_of_keys:
        raise SearchAttributeSizeError(
            f"number of search attributes {count} exceeds limit {limits.number_of_keys}"
        )
    for name, payload in given.indexed_fields.items():
        if len(payload.data) > limits.size_of_value:
            raise SearchAttributeSizeError(
                f"search attribute {name} value size {len(payload.data)} exceeds size limit "
                f"{limits.size_of_value}"
            )
    total = given.ByteSize()
    if total > limits.total_size:
        raise SearchAttributeSizeError(
            f"total size of search attributes {total} exceeds size limit {limits.total_size}"
        )


def _is_unset(payload: Payload) -> bool:
    """A ``binary/null`` value removes the attribute (an upsert's way to unset it)."""
    return payload.metadata.get("encoding") == b"binary/null"


def _check_value(name: str, kind: int, payload: Payload) -> None:
    if _is_unset(payload):
        return
    decoded = _decoded(payload)
    if decoded is _UNREADABLE:
        raise _invalid(name, kind, f"value from <{_payload_text(payload)}>")
    if not _fits(kind, decoded):
        raise _invalid(name, kind, _go_text(decoded))


_UNREADABLE = object()


def _decoded(payload: Payload) -> Any:
    """The payload's JSON value, or ``_UNREADABLE`` (not JSON, or nested beyond reason)."""
    encoding = payload.metadata.get("encoding")
    if encoding == b"binary/plain":
        return list(payload.data)  # Temporal reads raw bytes as a list of numbers
    if encoding != b"json/plain" or not payload.data:
        return _UNREADABLE
    try:
        return json.loads(payload.data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        # RecursionError: JSON nested deeper than the interpreter's stack; no valid value is.
        return _UNREADABLE


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _fits(kind: int, value: Any) -> bool:
    """Whether a value suits its attribute's type. As on Temporal, null and an empty list
    leave the attribute without a value, and a one-item list stands for its item."""
    if value is None:
        return True
    if kind != attrs.KEYWORD_LIST and isinstance(value, list):
        return not value or (len(value) == 1 and value[0] is not None and _fits(kind, value[0]))
    if kind in (attrs.KEYWORD, attrs.TEXT):
        return isinstance(value, str)
    if kind == attrs.INT:
        return isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64
    if kind == attrs.DOUBLE:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == attrs.BOOL:
        return isinstance(value, bool)
    if kind == attrs.DATETIME:
        return isinstance(value, str) and _is_datetime(value)
    if kind == attrs.KEYWORD_LIST:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return False


_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _is_datetime(text: str) -> bool:
    """RFC 3339 as Temporal takes it: a date, a time and a zone."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return False
    whole, fraction, zone = match.groups()
    try:  # the date must exist: no February 30th, no year 10000
        datetime.fromisoformat(whole + (fraction or "")[:7] + zone.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _invalid(name: str, kind: int, shown: str) -> InvalidArgumentError:
    if len(shown) > _SHOWN_VALUE_CHARS:
        shown = shown[:_SHOWN_VALUE_CHARS] + "..."
    return InvalidArgumentError(
        f"invalid value for search attribute {name} of type {attrs.TYPE_NAMES[kind]}: {shown}"
    )


def _go_text(value: Any) -> str:
    """A decoded JSON value as Go's ``%v`` prints it, which Temporal's errors quote."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = float(value)
        if number.is_integer() and abs(number) < 1e21:
            return str(int(number))
        return repr(number)
    if isinstance(value, list):
        return "[" + " ".join(_go_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{_go_text(value[key])}" for key in sorted(value)) + "]"
    if value is None:
        return "<nil>"
    return str(value)


def _payload_text(payload: Payload) -> str:
    """The payload in protobuf's text form, as Temporal quotes a value it cannot read."""
    parts = [
        f'metadata:{{key:"{key}"  value:"{_escaped(payload.metadata[key])}"}}'
        for key in sorted(payload.metadata)
    ]
    if payload.data:
        parts.append(f'data:"{_escaped(payload.data[:_SHOWN_VALUE_CHARS])}"')
    return "  ".join(parts)


def _escaped(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace").replace("\\", "\\\\").replace('"', '\\"')
