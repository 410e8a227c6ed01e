"""Batch operations on SQLite (table ``batches``, migration 12)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "batches.sql")
T = TypeVar("T")


class SqliteBatches:
    """The ``BatchStore`` role, for ``SqliteStore`` to inherit: it runs the queries."""

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        raise NotImplementedError

    async def insert_batch(self, batch: StoredBatch) -> bool:
        return await self._changed(Q["insert_batch"], batch.row())

    async def get_batch(self, namespace_id: str, job_id: str) -> StoredBatch | None:
        rows = await self._read(Q["get_batch"], (namespace_id, job_id))
        return StoredBatch.of_row(rows[0]) if rows else None

    async def list_batches(self, namespace_id: str, limit: int, offset: int) -> list[StoredBatch]:
        rows = await self._read(Q["list_batches"], (namespace_id, limit, offset))
        return [StoredBatch.of_row(row) for row in rows]

    async def count_running_batches(self, namespace_id: str) -> int:
        rows = await self._read(Q["count_running_batches"], (namespace_id,))
        return int(rows[0][0])

    async def save_batch_progress(
        self, namespace_id: str, job_id: str, owner: str, progress: BatchProgress
    ) -> bool:
        p = progress
        values = (p.total, p.succeeded, p.failed, p.cursor, namespace_id, job_id, owner)
        return await self._changed(Q["save_batch_progress"], values)

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
        values = (
            state,
            close_time,
            p.total,
            p.succeeded,
            p.failed,
            p.cursor,
            namespace_id,
            job_id,
            owner,
            owner,
        )
        return await self._changed(Q["close_batch"], values)

    async def claim_batches(self, owner: str) -> list[StoredBatch]:
        def run(conn: sqlite3.Connection) -> list[StoredBatch]:
            return [StoredBatch.of_row(row) for row in conn.execute(Q["claim_batches"], (owner, owner))]

        return await self._submit(run, is_write=True)

    async def _changed(self, sql: str, params: tuple[Any, ...]) -> bool:
        """Run one write; True if it changed a row."""
        return await self._submit(lambda conn: conn.execute(sql, params).rowcount > 0, is_write=True)
