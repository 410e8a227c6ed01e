"""Task tokens: opaque to workers, they name the execution and the task attempt."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence.records import ExecutionKey

_VERSION = 1
_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""Made once: ``json.dumps`` with separators builds a new encoder on every call."""


@dataclass(frozen=True)
class TaskToken:
    """Which task of which execution a worker is answering for."""

    namespace_id: str
    workflow_id: str
    run_id: str
    scheduled_event_id: int
    attempt: int
    started_event_id: int = 0
    activity_id: str = ""
    query_id: str = ""
    start_request_id: str = ""
    """Tells apart workflow tasks with the same event IDs, as after a dropped speculative task."""

    @property
    def key(self) -> ExecutionKey:
        return ExecutionKey(self.namespace_id, self.workflow_id, self.run_id)

    def encode(self) -> bytes:
        # The fields are flat strings and ints, in declaration order: ``asdict``'s deep copy
        # would give the same mapping at several times the cost, on every task handed out.
        return _ENCODER.encode({"v": _VERSION, **self.__dict__}).encode()

    @classmethod
    def decode(cls, data: bytes) -> TaskToken:
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.pop("v", None) != _VERSION:
                raise ValueError("unknown token version")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError("Error deserializing task token.") from exc
