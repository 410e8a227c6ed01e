"""Task queue version sets on SQLite: conditional writes on the row's version, the build ID rows
rewritten in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from cadenza.persistence.records import StoredVersionSets
from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "version_sets.sql")
T = TypeVar("T")


class _Database(Protocol):
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T: ...


class SqliteVersionSets:
    """The ``VersionSetStore`` role of ``SqliteStore``."""

    async def get_version_sets(
        self: _Database, namespace_id: str, task_queue: str
    ) -> StoredVersionSets | None:
        rows = await self._read(Q["get_version_sets"], (namespace_id, task_queue))
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
        def run(conn: sqlite3.Connection) -> bool:
            if version == 0:
                row = conn.execute(Q["insert_version_sets"], (namespace_id, task_queue, sets)).fetchone()
            else:
                row = conn.execute(
                    Q["update_version_sets"], (sets, namespace_id, task_queue, version)
                ).fetchone()
            if row is None:  # another write came first: nothing was changed
                return False
            conn.execute(Q["drop_build_ids"], (namespace_id, task_queue))
            conn.executemany(
                Q["insert_build_id"], [(namespace_id, task_queue, build_id) for build_id in set(build_ids)]
            )
            return True

        written: bool = await self._submit(run, is_write=True)
        return written

    async def queues_with_build_id(self: _Database, namespace_id: str, build_id: str) -> list[str]:
        rows = await self._read(Q["queues_with_build_id"], (namespace_id, build_id))
        return [str(row[0]) for row in rows]
