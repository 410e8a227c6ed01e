"""Worker Deployments on SQLite: the ``WorkerDeploymentStore`` role of ``SqliteStore``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.sqlite", "worker_deployments.sql")
T = TypeVar("T")


class _Database(Protocol):
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T: ...


class SqliteWorkerDeployments:
    """A row per namespace and deployment, the deployment as one document, written on its revision."""

    async def worker_deployments(self: _Database) -> list[tuple[str, str, int, bytes]]:
        rows = await self._read(Q["worker_deployments"], ())
        return [(r[0], r[1], int(r[2]), bytes(r[3])) for r in rows]

    async def get_worker_deployment(
        self: _Database, namespace_id: str, name: str
    ) -> tuple[int, bytes] | None:
        rows = await self._read(Q["get_worker_deployment"], (namespace_id, name))
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def put_worker_deployment(
        self: _Database, namespace_id: str, name: str, data: bytes, revision: int
    ) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            if revision == 0:
                cursor = conn.execute(Q["insert_worker_deployment"], (namespace_id, name, data))
            else:
                cursor = conn.execute(Q["update_worker_deployment"], (data, namespace_id, name, revision))
            return cursor.rowcount == 1

        return await self._submit(run, is_write=True)

    async def delete_worker_deployment(self: _Database, namespace_id: str, name: str, revision: int) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute(Q["delete_worker_deployment"], (namespace_id, name, revision)).rowcount == 1

        return await self._submit(run, is_write=True)
