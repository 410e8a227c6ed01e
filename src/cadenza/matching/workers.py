"""Worker heartbeats: the latest one each live worker instance sent, in memory.

SDK workers report themselves every so often (RecordWorkerHeartbeat); the
server keeps the latest report per worker instance so DescribeWorker and
ListWorkers can show who is out there. A worker that stops reporting is
forgotten after ``HEARTBEAT_TTL``. The reports are kept as the serialized
bytes the API layer hands in, so matching stays free of protobuf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

HEARTBEAT_TTL = 300.0
"""Seconds after its last heartbeat that a worker is forgotten."""


@dataclass(frozen=True)
class _Report:
    data: bytes
    received: float


class WorkerRegistry:
    """The latest heartbeat of each worker instance, by namespace."""

    def __init__(self) -> None:
        self._reports: dict[str, dict[str, _Report]] = {}

    def record(self, namespace_id: str, worker_instance_key: str, heartbeat: bytes) -> None:
        now = time.monotonic()
        reports = self._reports.setdefault(namespace_id, {})
        reports[worker_instance_key] = _Report(heartbeat, now)
        for key in [k for k, r in reports.items() if now - r.received > HEARTBEAT_TTL]:
            del reports[key]

    def get(self, namespace_id: str, worker_instance_key: str) -> bytes | None:
        report = self._reports.get(namespace_id, {}).get(worker_instance_key)
        if report is None or time.monotonic() - report.received > HEARTBEAT_TTL:
            return None
        return report.data

    def all(self, namespace_id: str) -> list[bytes]:
        now = time.monotonic()
        return [
            r.data for r in self._reports.get(namespace_id, {}).values() if now - r.received <= HEARTBEAT_TTL
        ]
