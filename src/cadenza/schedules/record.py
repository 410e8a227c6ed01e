"""A schedule's whole state: what the user set, what Describe shows, and the bookkeeping."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Memo, Payloads, SearchAttributes
from temporalio.api.failure.v1 import Failure
from temporalio.api.schedule.v1 import Schedule, ScheduleInfo


@dataclass
class BufferedStart:
    """An action waiting for its overlap policy to let it start."""

    nominal: float
    actual: float
    overlap: int
    """0 (unspecified) means the schedule's policy at the time it is processed."""
    manual: bool
    request_id: str


@dataclass
class Backfill:
    start: float
    end: float
    overlap: int


@dataclass
class ScheduleRecord:
    """Everything stored for one schedule; protos are kept as messages in memory."""

    namespace_id: str
    namespace: str
    schedule_id: str
    schedule: Schedule
    info: ScheduleInfo
    memo: Memo
    search_attributes: SearchAttributes
    """The schedule's own custom search attributes (not its workflows')."""
    create_request_id: str
    conflict_token: int = 1
    last_processed: float = 0.0
    buffer: list[BufferedStart] = field(default_factory=list)
    backfills: list[Backfill] = field(default_factory=list)
    last_completion_result: Payloads | None = None
    continued_failure: Failure | None = None
    timer_id: str = ""
    """The pending wake-up timer, if any."""

    def encode(self) -> bytes:
        raw: dict[str, Any] = {
            "namespace_id": self.namespace_id,
            "namespace": self.namespace,
            "schedule_id": self.schedule_id,
            "create_request_id": self.create_request_id,
            "conflict_token": self.conflict_token,
            "last_processed": self.last_processed,
            "buffer": [asdict(b) for b in self.buffer],
            "backfills": [asdict(b) for b in self.backfills],
            "timer_id": self.timer_id,
        }
        for name in _PROTOS:
            value = getattr(self, name)
            raw[name] = None if value is None else _b64(value.SerializeToString())
        return json.dumps(raw, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> ScheduleRecord:
        raw = json.loads(data)
        protos: dict[str, Any] = {
            name: None if raw[name] is None else kind.FromString(base64.b64decode(raw[name]))
            for name, kind in _PROTOS.items()
        }
        return cls(
            namespace_id=raw["namespace_id"],
            namespace=raw["namespace"],
            schedule_id=raw["schedule_id"],
            create_request_id=raw["create_request_id"],
            conflict_token=raw["conflict_token"],
            last_processed=raw["last_processed"],
            buffer=[BufferedStart(**b) for b in raw["buffer"]],
            backfills=[Backfill(**b) for b in raw["backfills"]],
            timer_id=raw["timer_id"],
            **protos,
        )


_PROTOS: dict[str, type[Message]] = {
    "schedule": Schedule,
    "info": ScheduleInfo,
    "memo": Memo,
    "search_attributes": SearchAttributes,
    "last_completion_result": Payloads,
    "continued_failure": Failure,
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
