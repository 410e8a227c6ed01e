"""Task queue configs on PostgreSQL: conditional writes on the row's revision, writers in turn."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from cadenza.persistence.records import StoredQueueConfig
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "queue_configs.sql")


class _Database(Protocol):
    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

    def _transaction(self) -> AbstractAsyncContextManager[Any]: ...


class PostgresQueueConfigs:
    """The ``QueueConfigStore`` role of ``PostgresStore``."""

    async def get_queue_config(
        self: _Database, namespace_id: str, task_queue: str, queue_type: int
    ) -> StoredQueueConfig | None:
        rows = await self._fetch(Q["get_queue_config"], namespace_id, task_queue, queue_type)
        if not rows:
            return None
        return StoredQueueConfig(namespace_id, task_queue, queue_type, int(rows[0][0]), bytes(rows[0][1]))

    async def put_queue_config(
        self: _Database, namespace_id: str, task_queue: str, queue_type: int, config: bytes, revision: int
    ) -> StoredQueueConfig | None:
        async with self._transaction() as conn:
            await conn.execute(Q["lock_queue_configs"])
            if revision == 0:
                written = await conn.fetchval(
                    Q["insert_queue_config"], namespace_id, task_queue, queue_type, config
                )
            else:
                written = await conn.fetchval(
                    Q["update_queue_config"], namespace_id, task_queue, queue_type, config, revision
                )
        if written is None:
            return None
        return StoredQueueConfig(namespace_id, task_queue, queue_type, int(written), config)

    async def queue_configs_since(self: _Database, revision: int) -> list[StoredQueueConfig]:
        rows = await self._fetch(Q["queue_configs_since"], revision)
        return [StoredQueueConfig(r[0], r[1], int(r[2]), int(r[3]), bytes(r[4])) for r in rows]
