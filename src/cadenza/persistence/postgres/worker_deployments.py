"""Worker Deployments on PostgreSQL: the ``WorkerDeploymentStore`` role of ``PostgresStore``."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "worker_deployments.sql")


class _Database(Protocol):
    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

    async def _execute(self, sql: str, *args: Any) -> str: ...


def _changed_one(status: str) -> bool:
    """Whether a command's status (``UPDATE 1``, ``INSERT 0 1``) says it changed one row."""
    return status.rsplit(" ", 1)[-1] == "1"


class PostgresWorkerDeployments:
    """A row per namespace and deployment, the deployment as one document, written on its revision."""

    async def worker_deployments(self: _Database) -> list[tuple[str, str, int, bytes]]:
        rows = await self._fetch(Q["worker_deployments"])
        return [(r[0], r[1], int(r[2]), bytes(r[3])) for r in rows]

    async def get_worker_deployment(
        self: _Database, namespace_id: str, name: str
    ) -> tuple[int, bytes] | None:
        rows = await self._fetch(Q["get_worker_deployment"], namespace_id, name)
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    async def put_worker_deployment(
        self: _Database, namespace_id: str, name: str, data: bytes, revision: int
    ) -> bool:
        if revision == 0:
            return _changed_one(await self._execute(Q["insert_worker_deployment"], namespace_id, name, data))
        return _changed_one(
            await self._execute(Q["update_worker_deployment"], namespace_id, name, data, revision)
        )

    async def delete_worker_deployment(self: _Database, namespace_id: str, name: str, revision: int) -> bool:
        return _changed_one(await self._execute(Q["delete_worker_deployment"], namespace_id, name, revision))
