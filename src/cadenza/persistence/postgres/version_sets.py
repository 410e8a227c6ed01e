"""Task queue version sets on PostgreSQL: conditional writes on the row's version, the build ID
rows rewritten in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from cadenza.persistence.records import StoredVersionSets
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "version_sets.sql")


class _Database(Protocol):
    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

    def _transaction(self) -> AbstractAsyncContextManager[Any]: ...


class PostgresVersionSets:
    """The ``VersionSetStore`` role of ``PostgresStore``."""

    async def get_version_sets(
        self: _Database, namespace_id: str, task_queue: str
    ) -> StoredVersionSets | None:
        rows = await self._fetch(Q["get_version_sets"], namespace_id, task_queue)
        if not rows:
            return None
        return StoredVersionSets(namespace_id, task_queue, int(rows[0][0]), bytes(rows[0][1]))

    async def put_version_sets(
        self: _Database,
        namespace_id: str,
        task_queue: str,
        sets: bytes,
        build_ids: Sequence[str],
        version: int,
    ) -> bool:
        async with self._transaction() as conn:
            # A concurrent writer of the same row waits on its lock, then finds the version
            # moved on (or the row already there) and writes nothing.
            if version == 0:
                written = await conn.fetchval(Q["insert_version_sets"], namespace_id, task_queue, sets)
            else:
                written = await conn.fetchval(
                    Q["update_version_sets"], namespace_id, task_queue, sets, version
                )
            if written is None:
                return False
            await conn.execute(Q["drop_build_ids"], namespace_id, task_queue)
            await conn.execute(Q["insert_build_ids"], namespace_id, task_queue, sorted(set(build_ids)))
        return True

    async def queues_with_build_id(self: _Database, namespace_id: str, build_id: str) -> list[str]:
        rows = await self._fetch(Q["queues_with_build_id"], namespace_id, build_id)
        return [str(row[0]) for row in rows]
