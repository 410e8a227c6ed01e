"""Batch operations on PostgreSQL (table ``batches``, migration 12); a running batch is
claimed by one replica, and taken over by another once that replica's lease runs out."""

from __future__ import annotations

from typing import Any

import asyncpg

from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "batches.sql")


class PostgresBatches:
    """The ``BatchStore`` role, for ``PostgresStore`` to inherit: it runs the queries."""

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def _execute(self, sql: str, *args: Any) -> str:
        raise NotImplementedError

    async def insert_batch(self, batch: StoredBatch) -> bool:
        return await self._execute(Q["insert_batch"], *batch.row()) == "INSERT 0 1"

    async def get_batch(self, namespace_id: str, job_id: str) -> StoredBatch | None:
        rows = await self._fetch(Q["get_batch"], namespace_id, job_id)
        return StoredBatch.of_row(rows[0]) if rows else None

    async def list_batches(self, namespace_id: str, limit: int, offset: int) -> list[StoredBatch]:
        rows = await self._fetch(Q["list_batches"], namespace_id, limit, offset)
        return [StoredBatch.of_row(row) for row in rows]

    async def count_running_batches(self, namespace_id: str) -> int:
        rows = await self._fetch(Q["count_running_batches"], namespace_id)
        return int(rows[0][0])

    async def save_batch_progress(
        self, namespace_id: str, job_id: str, owner: str, progress: BatchProgress
    ) -> bool:
        p = progress
        status = await self._execute(
            Q["save_batch_progress"], p.total, p.succeeded, p.failed, p.cursor, namespace_id, job_id, owner
        )
        return status == "UPDATE 1"

    async def close_batch(
        self,
        namespace_id: str,
        job_id: str,
        owner: str | None,
        state: int,
        close_time: float,
        progress: BatchProgress,
    ) -> bool:
        p = progress
        status = await self._execute(
            Q["close_batch"],
            state,
            close_time,
            p.total,
            p.succeeded,
            p.failed,
            p.cursor,
            namespace_id,
            job_id,
            owner,
        )
        return status == "UPDATE 1"

    async def claim_batches(self, owner: str) -> list[StoredBatch]:
        return [StoredBatch.of_row(row) for row in await self._fetch(Q["claim_batches"], owner)]
