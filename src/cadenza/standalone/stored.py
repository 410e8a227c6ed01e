"""How a standalone run's record is stored: each dataclass field one entry of a ``Memo``.

A protobuf message field is stored serialized, a text field as UTF-8 and a list as JSON,
each as the data of its own payload, so a field added later reads back as its empty value
from a record stored before it.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Self

from google.protobuf.message import Message
from temporalio.api.common.v1 import Memo, Payload


class StoredRecord:
    """A dataclass whose fields are a protobuf message, texts and lists of texts, stored as one
    ``Memo`` (the standalone activity's and the standalone Nexus operation's records)."""

    def encode(self) -> bytes:
        fields = {
            field.name: Payload(data=_field_bytes(getattr(self, field.name)))
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
        }
        return Memo(fields=fields).SerializeToString()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        stored = Memo.FromString(data).fields
        values = {name: _field_value(kind, stored[name].data) for name, kind in _field_types(cls).items()}
        return cls(**values)


def _field_bytes(value: Any) -> bytes:
    if isinstance(value, Message):
        return value.SerializeToString()
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


def _field_value(kind: Any, data: bytes) -> Any:
    if kind is str:
        return data.decode()
    if isinstance(kind, type) and issubclass(kind, Message):
        return kind.FromString(data)
    return json.loads(data or b"[]")


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """The record's fields in their order, each with its type (the annotations resolved once)."""
    types = _FIELD_TYPES.get(cls)
    if types is None:
        hints = typing.get_type_hints(cls)
        types = _FIELD_TYPES[cls] = {field.name: hints[field.name] for field in dataclasses.fields(cls)}
    return types
