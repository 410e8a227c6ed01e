"""Worker Deployments on PostgreSQL: the ``WorkerDeploymentStore`` role of ``PostgresStore``."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

from cadenza.persistence.sql import load_queries

Q = load_queries("cadenza.persistence.postgres", "worker_deployments.sql")


class _Database(Protocol):
    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

    async def _execute(self, sql: str, *args: Any) -> str: ...


class PostgresWorkerDeployments:
    """A row per namespace and deployment, the deployment as one document."""

    async def worker_deployments(self: _Database) -> list[tuple[str, str, bytes]]:
        rows = await self._fetch(Q["worker_deployments"])
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    async def put_worker_deployment(self: _Database, namespace_id: str, name: str, data: bytes) -> None:
        await self._execute(Q["put_worker_deployment"], namespace_id, name, data)

    async def delete_worker_deployment(self: _Database, namespace_id: str, name: str) -> None:
        await self._execute(Q["delete_worker_deployment"], namespace_id, name)
