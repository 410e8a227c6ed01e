"""PostgreSQL backend: a pool of asyncpg connections, one transaction per change.

Conditions hold across replicas because PostgreSQL checks them at commit
time: an execution update names the version it was computed from, and a run
taking over a workflow ID either inserts the current-execution row (a unique
key) or replaces the exact run it expects. A writer that loses learns it from
the row count or the unique violation, and nothing of its change is kept.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
from cadenza.persistence import changes, visibility_sql
from cadenza.persistence.errors import StorageError
from cadenza.persistence.postgres import schema
from cadenza.persistence.postgres.api_keys import PostgresApiKeys
from cadenza.persistence.postgres.audit import PostgresAudit
from cadenza.persistence.postgres.batches import PostgresBatches
from cadenza.persistence.postgres.concurrency import PostgresConcurrency
from cadenza.persistence.postgres.nexus_endpoints import PostgresNexusEndpoints
from cadenza.persistence.postgres.queue_configs import PostgresQueueConfigs
from cadenza.persistence.postgres.replicas import PostgresReplicas
from cadenza.persistence.postgres.saved_views import PostgresSavedViews
from cadenza.persistence.postgres.standalone_activities import PostgresStandaloneActivities
from cadenza.persistence.postgres.version_sets import PostgresVersionSets
from cadenza.persistence.postgres.visibility import DIALECT
from cadenza.persistence.postgres.worker_deployments import PostgresWorkerDeployments
from cadenza.persistence.records import (
    CurrentExecution,
    EventBatch,
    ExecutionKey,
    ExecutionWrite,
    ListCursor,
    ListedExecution,
    NamespaceRecord,
    ScheduleWrite,
    StoredExecution,
    StoredSchedule,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.sql import load_queries
from cadenza.visibility.query import Query

Q = load_queries("cadenza.persistence.postgres", "queries.sql")
T = TypeVar("T")
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
"""What the driver raises when the database fails or the connection is cut (as by a restart)."""

POOL_SIZE = 10
"""Connections per replica; concurrent changes to different executions commit in parallel."""


async def connect(url: str) -> asyncpg.Connection:
    """One connection, with driver failures reported as ``StorageError``."""
    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc


class PostgresStore(
    PostgresStandaloneActivities,
    PostgresAudit,
    PostgresSavedViews,
    PostgresBatches,
    PostgresApiKeys,
    PostgresQueueConfigs,
    PostgresNexusEndpoints,
    PostgresConcurrency,
    PostgresWorkerDeployments,
    PostgresVersionSets,
):
    """The ``Store`` on a PostgreSQL database; several replicas may share it."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: asyncpg.Pool | None = None
        self._replicas = PostgresReplicas(url, uuid.uuid4().hex, self._open_pool)

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        conn = await connect(self._url)
        try:
            await schema.migrate(conn)
        finally:
            await conn.close()
        try:
            # Sessions name their replica: the timers they write are its own, and the
            # announcements their commits send say who sent them.
            self._pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=POOL_SIZE,
                server_settings={"cadenza.replica": self._replicas.replica_id},
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        await self._replicas.renew_lease()

    async def close(self) -> None:
        if self._pool is not None:
            await self._replicas.close()
            await self._pool.close()
            self._pool = None

    def pool_use(self) -> tuple[int, int, int]:
        """(connections open, of them idle, most allowed), for metrics."""
        pool = self._pool
        if pool is None:
            return 0, 0, POOL_SIZE
        return pool.get_size(), pool.get_idle_size(), pool.get_max_size()

    # -- namespaces ------------------------------------------------------------

    async def create_namespace(self, record: NamespaceRecord) -> None:
        try:
            await self._execute(Q["insert_namespace"], record.id, record.name, json.dumps(record.info))
        except asyncpg.UniqueViolationError as exc:
            raise NamespaceAlreadyExistsError(f"Namespace {record.name} already exists.") from exc

    async def get_namespace(self, name: str) -> NamespaceRecord | None:
        rows = await self._fetch(Q["get_namespace"], name)
        return _namespace(rows[0]) if rows else None

    async def list_namespaces(self) -> list[NamespaceRecord]:
        return [_namespace(row) for row in await self._fetch(Q["list_namespaces"])]

    async def update_namespace(self, record: NamespaceRecord) -> None:
        await self._execute(Q["update_namespace"], json.dumps(record.info), record.id)

    async def delete_namespace(self, namespace_id: str) -> None:
        async with self._transaction() as conn:
            for query in changes.NAMESPACE_TABLES:
                await conn.execute(Q[query], namespace_id)

    # -- visibility --------------------------------------------------------------

    async def list_executions(
        self,
        namespace_id: str,
        query: Query,
        types: dict[str, int],
        limit: int,
        after: ListCursor | None,
    ) -> list[ListedExecution]:
        sql, params = visibility_sql.listing(DIALECT, namespace_id, query, types, limit, after)
        return [ListedExecution(*row) for row in await self._fetch(sql, *params)]

    async def count_executions(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        sql, params = visibility_sql.counting(DIALECT, namespace_id, query, types)
        return [(row[0], row[1]) for row in await self._fetch(sql, *params)]

    # -- executions --------------------------------------------------------------

    async def get_current_execution(self, namespace_id: str, workflow_id: str) -> CurrentExecution | None:
        rows = await self._fetch(Q["get_current_execution"], namespace_id, workflow_id)
        return CurrentExecution(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def load_execution(self, key: ExecutionKey) -> StoredExecution | None:
        return changes.stored_execution(await self._fetch(Q["load_execution"], *changes.key_row(key)))

    async def execution_version(self, key: ExecutionKey) -> int | None:
        rows = await self._fetch(Q["execution_version"], *changes.key_row(key))
        return int(rows[0][0]) if rows else None

    async def read_history(self, key: ExecutionKey, first_event_id: int) -> list[EventBatch]:
        rows = await self._fetch(Q["read_history"], *changes.key_row(key), first_event_id)
        return [EventBatch(r[0], r[1], r[2]) for r in rows]

    async def commit(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        async with self._transaction() as conn:
            for each in (write, *more):
                await _apply(conn, each)

    async def delete_execution(self, key: ExecutionKey) -> None:
        async with self._transaction() as conn:
            await _delete_run(conn, key)

    async def delete_closed_before(self, namespace_id: str, cutoff: float, limit: int) -> list[ExecutionKey]:
        async with self._transaction() as conn:
            rows = await conn.fetch(Q["closed_before"], namespace_id, cutoff, limit)
            keys = [ExecutionKey(namespace_id, row[0], row[1]) for row in rows]
            for key in keys:
                await _delete_run(conn, key)
        return keys

    # -- schedules -------------------------------------------------------------------

    async def write_schedule(self, write: ScheduleWrite) -> None:
        async with self._transaction() as conn:
            for step in changes.schedule_steps(write):
                await _run(conn, step)

    async def get_schedule(self, namespace_id: str, schedule_id: str) -> StoredSchedule | None:
        rows = await self._fetch(Q["get_schedule"], namespace_id, schedule_id)
        return StoredSchedule(namespace_id, schedule_id, rows[0][0], rows[0][1]) if rows else None

    async def list_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, offset: int
    ) -> list[StoredSchedule]:
        sql, params = visibility_sql.schedule_listing(DIALECT, namespace_id, query, types, limit, offset)
        return [StoredSchedule(*row) for row in await self._fetch(sql, *params)]

    async def count_schedules(self, namespace_id: str, query: Query, types: dict[str, int]) -> int:
        sql, params = visibility_sql.schedule_counting(DIALECT, namespace_id, query, types)
        rows = await self._fetch(sql, *params)
        return int(rows[0][0])

    async def list_all_schedules(self) -> list[StoredSchedule]:
        return [StoredSchedule(*row) for row in await self._fetch(Q["list_all_schedules"])]

    # -- tasks and timers ----------------------------------------------------------

    async def list_tasks(self) -> list[TaskRecord]:
        rows = await self._fetch(Q["list_tasks"])
        return [changes.task_of_row(r) for r in rows]

    async def list_timers(self) -> list[TimerRecord]:
        rows = await self._fetch(Q["list_timers"], self._replicas.replica_id)
        return sorted((TimerRecord(*r) for r in rows), key=lambda t: t.fire_at)

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        async with self._transaction() as conn:
            await conn.executemany(Q["delete_task"], [(t,) for t in task_ids])
            await conn.executemany(Q["delete_timer"], [(t,) for t in timer_ids])

    def replicas(self) -> PostgresReplicas:
        return self._replicas

    # -- connections -----------------------------------------------------------------

    def _open_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageError("the store is not open")
        return self._pool

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await _guard(self._open_pool().fetch(sql, *args))
        return rows

    async def _execute(self, sql: str, *args: Any) -> str:
        """Run one statement; its status (``INSERT 0 1``) says how many rows it changed."""
        status: str = await _guard(self._open_pool().execute(sql, *args))
        return status

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        """A pooled connection inside one transaction; driver errors become ``StorageError``."""
        try:
            async with self._open_pool().acquire() as conn, conn.transaction():
                yield conn
        except DRIVER_ERRORS as exc:
            raise StorageError(f"database commit failed: {exc}") from exc


async def _guard(call: Awaitable[T]) -> T:
    """Await a driver call, turning its failures into ``StorageError`` (unique violations pass)."""
    try:
        return await call
    except asyncpg.UniqueViolationError:
        raise
    except DRIVER_ERRORS as exc:
        raise StorageError(str(exc)) from exc


async def _apply(conn: Conn, w: ExecutionWrite) -> None:
    """Run one execution change; raise ``ConcurrentUpdateError`` if a condition fails."""
    for step in changes.steps(w):
        await _run(conn, step)


async def _run(conn: Conn, step: changes.Step) -> None:
    sql = Q[step.query]
    if step.check is changes.Check.NONE:
        if len(step.rows) == 1:  # executemany costs a round trip more for one row
            await conn.execute(sql, *step.rows[0])
        else:
            await conn.executemany(sql, step.rows)
        return
    try:
        status = await conn.execute(sql, *step.rows[0])
    except asyncpg.UniqueViolationError as exc:
        if step.check is changes.Check.INSERTS:
            raise ConcurrentUpdateError(step.conflict) from exc
        raise
    if step.check is changes.Check.ONE_ROW and _row_count(status) != 1:
        raise ConcurrentUpdateError(step.conflict)


async def _delete_run(conn: Conn, key: ExecutionKey) -> None:
    for query in changes.RUN_TABLES:
        await conn.execute(Q[query], *changes.key_row(key))


def _row_count(status: str) -> int:
    """The row count from a command tag such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])


def _namespace(row: asyncpg.Record) -> NamespaceRecord:
    return NamespaceRecord(row[0], row[1], json.loads(row[2]))
