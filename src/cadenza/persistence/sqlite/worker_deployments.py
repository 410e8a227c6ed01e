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
    """A row per namespace and deployment, the deployment as one document."""

    async def worker_deployments(self: _Database) -> list[tuple[str, str, bytes]]:
        rows = await self._read(Q["worker_deployments"], ())
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    async def put_worker_deployment(self: _Database, namespace_id: str, name: str, data: bytes) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(Q["put_worker_deployment"], (namespace_id, name, data))

        await self._submit(run, is_write=True)

    async def delete_worker_deployment(self: _Database, namespace_id: str, name: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(Q["delete_worker_deployment"], (namespace_id, name))

        await self._submit(run, is_write=True)
