"""Per-item records that keep their own JSON until one of their fields changes."""

from __future__ import annotations

import base64
from typing import Any

import orjson


class Encoded:
    """A record of a per-item collection that keeps its own JSON until one of its fields changes.

    A workflow with a thousand pending activities changes one of them per event:
    re-encoding (and, for activities, storing) only that one keeps the cost of an
    event independent of the workflow's size. Any assignment to a field drops the
    cached bytes; fields are never mutated in place. orjson skips the cache, whose
    name starts with an underscore.
    """

    _json: bytes | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        fields = self.__dict__
        fields["_json"] = None
        tracker: tuple[set[int], int] | None = fields.get("_tracker")
        if tracker is not None:  # an activity tells its collection it changed
            tracker[0].add(tracker[1])

    def encoded(self) -> bytes:
        """The record's JSON, encoded again only if a field changed since last time."""
        data = self._json
        if data is None:
            data = orjson.dumps(self)
            self.__dict__["_json"] = data
        return data


def encode_blob(data: bytes) -> str:
    """Bytes (a serialized proto) as text a JSON state can hold."""
    return base64.b64encode(data).decode()


def decode_blob(text: str) -> bytes:
    return base64.b64decode(text)
