"""SQLite backend: the Store's queries on an embedded file in WAL mode with ``synchronous=FULL``.

The queries run as jobs on the database threads of ``group_commit``: writes
share one commit (and one fsync) with whatever other changes wait at that
moment, reads run on a connection of their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
from cadenza.persistence import changes, visibility_sql
from cadenza.persistence.errors import StorageError
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
from cadenza.persistence.sqlite import integrity, schema
from cadenza.persistence.sqlite.api_keys import SqliteApiKeys
from cadenza.persistence.sqlite.audit import SqliteAudit
from cadenza.persistence.sqlite.batches import SqliteBatches
from cadenza.persistence.sqlite.concurrency import SqliteConcurrency
from cadenza.persistence.sqlite.group_commit import DatabaseThreads
from cadenza.persistence.sqlite.lock import DatabaseLock, lock_database
from cadenza.persistence.sqlite.nexus_endpoints import SqliteNexusEndpoints
from cadenza.persistence.sqlite.queue_configs import SqliteQueueConfigs
from cadenza.persistence.sqlite.saved_views import SqliteSavedViews
from cadenza.persistence.sqlite.standalone_activities import SqliteStandaloneActivities
from cadenza.persistence.sqlite.version_sets import SqliteVersionSets
from cadenza.persistence.sqlite.visibility import DIALECT
from cadenza.persistence.sqlite.worker_deployments import SqliteWorkerDeployments
from cadenza.visibility.query import Query

_PACKAGE = "cadenza.persistence.sqlite"
Q = load_queries(_PACKAGE, "queries.sql")
T = TypeVar("T")


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode with ``synchronous=FULL``: a committed change survives power loss."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
    except sqlite3.Error as exc:
        if type(exc) is sqlite3.DatabaseError:  # "file is not a database": a damaged header
            raise integrity.corrupt(path, str(exc)) from exc
        raise StorageError(f"cannot open the SQLite database {path}: {exc}") from exc
    return conn


class SqliteStore(
    SqliteStandaloneActivities,
    SqliteAudit,
    SqliteSavedViews,
    SqliteBatches,
    SqliteApiKeys,
    SqliteQueueConfigs,
    SqliteNexusEndpoints,
    SqliteConcurrency,
    SqliteWorkerDeployments,
    SqliteVersionSets,
):
    """The ``Store`` on an embedded SQLite file in WAL mode with ``synchronous=FULL``."""

    def __init__(self, path: str, *, exclusive: bool = True) -> None:
        self._path = path
        self._exclusive = exclusive
        self._lock: DatabaseLock | None = None
        self._conn: sqlite3.Connection | None = None
        self._threads: DatabaseThreads | None = None
        self.on_group_commit: Callable[[int, float], None] | None = None
        """Told the size and duration of each group commit (set before ``open``; metrics)."""

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        lock = lock_database(self._path) if self._exclusive else None
        try:
            conn = connect(self._path)
            try:
                if self._path != ":memory:":
                    integrity.quick_check(conn, self._path)
                schema.migrate(conn)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self._lock = lock
        self._conn = conn
        reader = self._connect_reader() if self._path != ":memory:" else None
        self._threads = DatabaseThreads(asyncio.get_running_loop(), conn, reader, self.on_group_commit)
        self._threads.start()

    def _connect_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA query_only=ON")
        return conn

    async def close(self) -> None:
        if self._threads is None:
            return
        await self._threads.stop()
        self._threads = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def wal_bytes(self) -> int:
        """The write-ahead log's size now: what a checkpoint has yet to fold into the file."""
        try:
            return os.path.getsize(self._path + "-wal") if self._path != ":memory:" else 0
        except FileNotFoundError:
            return 0

    # -- namespaces ------------------------------------------------------------

    async def create_namespace(self, record: NamespaceRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(Q["insert_namespace"], (record.id, record.name, json.dumps(record.info)))
            except sqlite3.IntegrityError as exc:
                raise NamespaceAlreadyExistsError(f"Namespace {record.name} already exists.") from exc

        await self._submit(run, is_write=True)

    async def get_namespace(self, name: str) -> NamespaceRecord | None:
        rows = await self._read(Q["get_namespace"], (name,))
        return _namespace(rows[0]) if rows else None

    async def update_namespace(self, record: NamespaceRecord) -> None:
        await self._submit(
            lambda conn: conn.execute(Q["update_namespace"], (json.dumps(record.info), record.id)),
            is_write=True,
        )

    async def list_namespaces(self) -> list[NamespaceRecord]:
        return [_namespace(row) for row in await self._read(Q["list_namespaces"], ())]

    async def delete_namespace(self, namespace_id: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for query in changes.NAMESPACE_TABLES:
                conn.execute(Q[query], (namespace_id,))

        await self._submit(run, is_write=True)

    # -- visibility ------------------------------------------------------------

    async def list_executions(
        self,
        namespace_id: str,
        query: Query,
        types: dict[str, int],
        limit: int,
        after: ListCursor | None,
    ) -> list[ListedExecution]:
        sql, params = visibility_sql.listing(DIALECT, namespace_id, query, types, limit, after)
        rows = await self._read(sql, tuple(params))
        return [ListedExecution(*row) for row in rows]

    async def count_executions(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        """Counts, grouped by status when the query says GROUP BY ExecutionStatus."""
        sql, params = visibility_sql.counting(DIALECT, namespace_id, query, types)
        rows = await self._read(sql, tuple(params))
        return [(row[0], row[1]) for row in rows]

    # -- executions --------------------------------------------------------------

    async def get_current_execution(self, namespace_id: str, workflow_id: str) -> CurrentExecution | None:
        rows = await self._read(Q["get_current_execution"], (namespace_id, workflow_id))
        return CurrentExecution(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def load_execution(self, key: ExecutionKey) -> StoredExecution | None:
        return changes.stored_execution(await self._read(Q["load_execution"], changes.key_row(key) * 2))

    async def execution_version(self, key: ExecutionKey) -> int | None:
        rows = await self._read(Q["execution_version"], changes.key_row(key))
        return int(rows[0][0]) if rows else None

    async def read_history(self, key: ExecutionKey, first_event_id: int) -> list[EventBatch]:
        rows = await self._read(Q["read_history"], (*changes.key_row(key), first_event_id))
        return [EventBatch(r[0], r[1], r[2]) for r in rows]

    async def commit(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for each in (write, *more):
                _apply(conn, each)

        await self._submit(run, is_write=True)

    async def delete_execution(self, key: ExecutionKey) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for query in changes.RUN_TABLES:
                conn.execute(Q[query], changes.key_row(key))

        await self._submit(run, is_write=True)

    async def delete_closed_before(self, namespace_id: str, cutoff: float, limit: int) -> list[ExecutionKey]:
        """Delete up to ``limit`` runs that closed before ``cutoff``; return which."""

        def run(conn: sqlite3.Connection) -> list[ExecutionKey]:
            rows = conn.execute(Q["closed_before"], (namespace_id, cutoff, limit)).fetchall()
            keys = [ExecutionKey(namespace_id, row[0], row[1]) for row in rows]
            for key in keys:
                for query in changes.RUN_TABLES:
                    conn.execute(Q[query], changes.key_row(key))
            return keys

        result: list[ExecutionKey] = await self._submit(run, is_write=True)
        return result

    # -- schedules -------------------------------------------------------------------

    async def write_schedule(self, write: ScheduleWrite) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for step in changes.schedule_steps(write):
                _run(conn, step)

        await self._submit(run, is_write=True)

    async def get_schedule(self, namespace_id: str, schedule_id: str) -> StoredSchedule | None:
        rows = await self._read(Q["get_schedule"], (namespace_id, schedule_id))
        return StoredSchedule(namespace_id, schedule_id, rows[0][0], rows[0][1]) if rows else None

    async def list_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, offset: int
    ) -> list[StoredSchedule]:
        sql, params = visibility_sql.schedule_listing(DIALECT, namespace_id, query, types, limit, offset)
        return [StoredSchedule(*row) for row in await self._read(sql, tuple(params))]

    async def count_schedules(self, namespace_id: str, query: Query, types: dict[str, int]) -> int:
        sql, params = visibility_sql.schedule_counting(DIALECT, namespace_id, query, types)
        rows = await self._read(sql, tuple(params))
        return int(rows[0][0])

    async def list_all_schedules(self) -> list[StoredSchedule]:
        return [StoredSchedule(*row) for row in await self._read(Q["list_all_schedules"], ())]

    # -- tasks and timers ----------------------------------------------------------

    async def list_tasks(self) -> list[TaskRecord]:
        rows = await self._read(Q["list_tasks"], ())
        return [changes.task_of_row(r) for r in rows]

    async def list_timers(self) -> list[TimerRecord]:
        rows = await self._read(Q["list_timers"], ())
        return [TimerRecord(*r) for r in rows]

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["delete_task"], [(t,) for t in task_ids])
            conn.executemany(Q["delete_timer"], [(t,) for t in timer_ids])

        await self._submit(run, is_write=True)

    def replicas(self) -> None:
        """A SQLite file has one server: it holds every task and timer itself."""
        return None

    # -- the database threads ------------------------------------------------------

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        result: list[tuple[Any, ...]] = await self._submit(
            lambda conn: conn.execute(sql, params).fetchall(), is_write=False
        )
        return result

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        if self._threads is None:
            raise StorageError("the store is not open")
        return await self._threads.submit(run, is_write=is_write)


def _namespace(row: tuple[Any, ...]) -> NamespaceRecord:
    return NamespaceRecord(row[0], row[1], json.loads(row[2]))


def _apply(conn: sqlite3.Connection, w: ExecutionWrite) -> None:
    """Run one execution change; raise ``ConcurrentUpdateError`` if a condition fails."""
    for step in changes.steps(w):
        _run(conn, step)


def _run(conn: sqlite3.Connection, step: changes.Step) -> None:
    sql = Q[step.query]
    if step.check is changes.Check.NONE:
        if len(step.rows) == 1:
            conn.execute(sql, step.rows[0])
        else:
            conn.executemany(sql, step.rows)
        return
    try:
        cur = conn.execute(sql, step.rows[0])
    except sqlite3.IntegrityError as exc:
        if step.check is changes.Check.INSERTS:
            raise ConcurrentUpdateError(step.conflict) from exc
        raise
    if step.check is changes.Check.ONE_ROW and cur.rowcount != 1:
        raise ConcurrentUpdateError(step.conflict)
