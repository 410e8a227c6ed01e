"""Task tokens: opaque to workers, they name the execution and the task attempt."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence.records import ExecutionKey

_VERSION = 1


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
        return json.dumps({"v": _VERSION, **asdict(self)}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> TaskToken:
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict) or raw.pop("v", None) != _VERSION:
                raise ValueError("unknown token version")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError("Error deserializing task token.") from exc
