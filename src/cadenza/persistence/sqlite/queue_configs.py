"""Task queue configs on SQLite: conditional writes on the row's revision."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from cadenza.persistence.records import StoredQueueConfig
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "queue_configs.sql")
T = TypeVar("T")


class _Database(Protocol):
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T: ...


class SqliteQueueConfigs:
    """The ``QueueConfigStore`` role of ``SqliteStore``."""

    async def get_queue_config(
        self: _Database, namespace_id: str, task_queue: str, queue_type: int
    ) -> StoredQueueConfig | None:
        rows = await self._read(Q["get_queue_config"], (namespace_id, task_queue, queue_type))
        if not rows:
            return None
        return StoredQueueConfig(namespace_id, task_queue, queue_type, int(rows[0][0]), bytes(rows[0][1]))

    async def put_queue_config(
        self: _Database, namespace_id: str, task_queue: str, queue_type: int, config: bytes, revision: int
    ) -> StoredQueueConfig | None:
        def run(conn: sqlite3.Connection) -> int | None:
            if revision == 0:
                row = conn.execute(
                    Q["insert_queue_config"], (namespace_id, task_queue, queue_type, config)
                ).fetchone()
            else:
                row = conn.execute(
                    Q["update_queue_config"], (config, namespace_id, task_queue, queue_type, revision)
                ).fetchone()
            return None if row is None else int(row[0])

        written = await self._submit(run, is_write=True)
        if written is None:
            return None
        return StoredQueueConfig(namespace_id, task_queue, queue_type, written, config)

    async def queue_configs_since(self: _Database, revision: int) -> list[StoredQueueConfig]:
        rows = await self._read(Q["queue_configs_since"], (revision,))
        return [StoredQueueConfig(r[0], r[1], int(r[2]), int(r[3]), bytes(r[4])) for r in rows]
