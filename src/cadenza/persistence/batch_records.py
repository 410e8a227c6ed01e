"""What the store keeps of a batch operation (table ``batches``, migration 12)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch's runner stands: its counts and its cursor (opaque to the store)."""

    total: int
    succeeded: int
    failed: int
    cursor: bytes


@dataclass(frozen=True)
class StoredBatch:
    """One batch operation as stored: its request (serialized), state, times and progress."""

    namespace_id: str
    job_id: str
    run_id: str
    request_id: str
    operation_type: int
    request: bytes
    identity: str
    reason: str
    state: int
    start_time: float
    close_time: float | None
    progress: BatchProgress
    owner: str

    def row(self) -> tuple[object, ...]:
        """The values of an insert, in the table's column order."""
        p = self.progress
        return (
            self.namespace_id,
            self.job_id,
            self.run_id,
            self.request_id,
            self.operation_type,
            self.request,
            self.identity,
            self.reason,
            self.state,
            self.start_time,
            self.close_time,
            p.total,
            p.succeeded,
            p.failed,
            p.cursor,
            self.owner,
        )

    @classmethod
    def of_row(cls, row: Iterable[Any]) -> StoredBatch:
        """A batch from a selected row (the columns in the table's order)."""
        r = tuple(row)
        progress = BatchProgress(int(r[11]), int(r[12]), int(r[13]), bytes(r[14]))
        close_time = None if r[10] is None else float(r[10])
        return cls(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            int(r[4]),
            bytes(r[5]),
            str(r[6]),
            str(r[7]),
            int(r[8]),
            float(r[9]),
            close_time,
            progress,
            str(r[15]),
        )
