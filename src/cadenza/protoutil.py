"""Small protobuf helpers that work the same on protobuf 5, 6 and 7."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload


def is_repeated(field: Any) -> bool:
    """protobuf 7 says ``is_repeated``; older releases only have ``label``."""
    if hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return bool(field.label == field.LABEL_REPEATED)


def copy_field(src: Any, out: Any, name: str) -> None:
    """Copy one field by name between messages that both have it, whatever its kind."""
    value = getattr(src, name)
    descriptor = src.DESCRIPTOR.fields_by_name[name]
    if is_repeated(descriptor):
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            for key in value:
                if descriptor.message_type.fields_by_name["value"].message_type is None:
                    getattr(out, name)[key] = value[key]
                else:
                    getattr(out, name)[key].CopyFrom(value[key])
        else:
            getattr(out, name).extend(value)
    elif descriptor.message_type is None:
        setattr(out, name, value)
    elif src.HasField(name):
        getattr(out, name).CopyFrom(value)


def copy_common_fields(src: Any, out: Any, skip: frozenset[str] = frozenset()) -> None:
    """Copy every field the two messages share by name."""
    names = {f.name for f in out.DESCRIPTOR.fields}
    for field in src.DESCRIPTOR.fields:
        if field.name in names and field.name not in skip:
            copy_field(src, out, field.name)


def present(message: Any, name: str) -> Any:
    """The message field ``name`` if the sender set it, else None (proto3 has no null)."""
    return getattr(message, name) if message.HasField(name) else None


def seconds(value: Timestamp | Duration) -> float:
    """A Timestamp as seconds since the epoch, or a Duration as seconds, with their fraction."""
    return value.seconds + value.nanos / 1e9


def keyword_payload(value: str) -> Payload:
    """A Keyword search-attribute value as Temporal encodes it (also a count's group value)."""
    return Payload(metadata={"encoding": b"json/plain", "type": b"Keyword"}, data=json.dumps(value).encode())
