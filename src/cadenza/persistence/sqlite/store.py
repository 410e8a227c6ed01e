"""SQLite backend: one connection owned by one thread, writes grouped into shared commits.

Every caller's change becomes a job on a queue. The database thread takes all
jobs waiting at that moment, runs each write inside its own savepoint of one
transaction and commits once, so concurrent changes share a single fsync
(group commit). A write whose condition fails is rolled back to its savepoint
alone; the others still commit.

Reads go to a second connection on a thread of their own, so a lookup never
waits behind another change's fsync; WAL lets it read the last committed state
while the writer commits. (An in-memory database has one connection, which
then serves both.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
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
    TaskKind,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.sql import load_queries, load_text
from cadenza.persistence.sqlite import visibility as visibility_sql
from cadenza.visibility.query import Query

logger = logging.getLogger(__name__)

_PACKAGE = "cadenza.persistence.sqlite"
Q = load_queries(_PACKAGE, "queries.sql")
T = TypeVar("T")


class StorageError(Exception):
    """The database failed in a way the caller cannot fix by retrying its change."""


@dataclass
class _Job:
    """A unit of work for the database thread; ``run`` executes on that thread."""

    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    is_write: bool
    outcome: tuple[bool, Any] = field(default=(False, None))


class SqliteStore:
    """The ``Store`` on an embedded SQLite file in WAL mode with ``synchronous=FULL``."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None
        self._reads: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(load_text(_PACKAGE, "schema.sql"))
        self._thread = threading.Thread(target=self._serve, name="cadenza-sqlite", daemon=True)
        self._thread.start()
        if self._path != ":memory:":
            self._reader = threading.Thread(target=self._serve_reads, name="cadenza-sqlite-reads",
                                            args=(self._connect_reader(),), daemon=True)
            self._reader.start()

    def _connect_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA query_only=ON")
        return conn

    async def close(self) -> None:
        if self._thread is None:
            return
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        if self._reader is not None:
            self._reads.put(None)
            await asyncio.to_thread(self._reader.join)
            self._reader = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- namespaces ------------------------------------------------------------

    async def create_namespace(self, record: NamespaceRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(Q["insert_namespace"], (record.id, record.name, json.dumps(record.info)))
            except sqlite3.IntegrityError as exc:
                raise NamespaceAlreadyExistsError(
                    f"Namespace {record.name} already exists."
                ) from exc

        await self._submit(run, is_write=True)

    async def get_namespace(self, name: str) -> NamespaceRecord | None:
        rows = await self._read(Q["get_namespace"], (name,))
        return _namespace(rows[0]) if rows else None

    async def update_namespace(self, record: NamespaceRecord) -> None:
        await self._submit(
            lambda conn: conn.execute(Q["update_namespace"], (json.dumps(record.info), record.id)),
            is_write=True)

    async def list_executions(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int,
        after: ListCursor | None,
    ) -> list[ListedExecution]:
        sql, params = visibility_sql.list_statement(namespace_id, query, types, limit, after)
        return [ListedExecution(*row) for row in await self._read(sql, tuple(params))]

    async def count_executions(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        """Counts, grouped by status when the query says GROUP BY ExecutionStatus."""
        sql, params = visibility_sql.count_statement(namespace_id, query, types)
        return [(row[0], row[1]) for row in await self._read(sql, tuple(params))]

    async def list_namespaces(self) -> list[NamespaceRecord]:
        return [_namespace(row) for row in await self._read(Q["list_namespaces"], ())]

    # -- executions --------------------------------------------------------------

    async def get_current_execution(
        self, namespace_id: str, workflow_id: str
    ) -> CurrentExecution | None:
        rows = await self._read(Q["get_current_execution"], (namespace_id, workflow_id))
        return CurrentExecution(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def load_execution(self, key: ExecutionKey) -> StoredExecution | None:
        rows = await self._read(Q["load_execution"], _key(key))
        return StoredExecution(rows[0][0], rows[0][1]) if rows else None

    async def read_history(self, key: ExecutionKey, first_event_id: int) -> list[EventBatch]:
        rows = await self._read(Q["read_history"], (*_key(key), first_event_id))
        return [EventBatch(r[0], r[1], r[2]) for r in rows]

    async def commit(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for each in (write, *more):
                _apply(conn, each)

        await self._submit(run, is_write=True)

    async def delete_execution(self, key: ExecutionKey) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for query in ("delete_execution", "delete_history", "delete_execution_tasks",
                          "delete_execution_timers", "delete_current_if"):
                conn.execute(Q[query], _key(key))

        await self._submit(run, is_write=True)

    async def delete_closed_before(
        self, namespace_id: str, cutoff: float, limit: int
    ) -> list[ExecutionKey]:
        """Delete up to ``limit`` runs that closed before ``cutoff``; return which."""

        def run(conn: sqlite3.Connection) -> list[ExecutionKey]:
            rows = conn.execute(Q["closed_before"], (namespace_id, cutoff, limit)).fetchall()
            keys = [ExecutionKey(namespace_id, row[0], row[1]) for row in rows]
            for key in keys:
                for query in ("delete_execution", "delete_history", "delete_execution_tasks",
                              "delete_execution_timers", "delete_current_if"):
                    conn.execute(Q[query], _key(key))
            return keys

        result: list[ExecutionKey] = await self._submit(run, is_write=True)
        return result

    async def delete_namespace(self, namespace_id: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for query in ("delete_namespace_schedules", "delete_namespace_executions",
                          "delete_namespace_history",
                          "delete_namespace_current", "delete_namespace_tasks",
                          "delete_namespace_timers", "delete_namespace"):
                conn.execute(Q[query], (namespace_id,))

        await self._submit(run, is_write=True)

    # -- schedules -------------------------------------------------------------------

    async def write_schedule(self, write: ScheduleWrite) -> None:
        await self._submit(lambda conn: _apply_schedule(conn, write), is_write=True)

    async def get_schedule(self, namespace_id: str, schedule_id: str) -> StoredSchedule | None:
        rows = await self._read(Q["get_schedule"], (namespace_id, schedule_id))
        return StoredSchedule(namespace_id, schedule_id, rows[0][0], rows[0][1]) if rows else None

    async def list_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, offset: int
    ) -> list[StoredSchedule]:
        where, params = visibility_sql.compile_where(query, types, visibility_sql.SCHEDULE_COLUMNS)
        sql = ("SELECT namespace_id, schedule_id, version, state FROM schedules "
               f"WHERE namespace_id = ? AND ({where}) "
               "ORDER BY create_time DESC, schedule_id LIMIT ? OFFSET ?")
        rows = await self._read(sql, (namespace_id, *params, limit, offset))
        return [StoredSchedule(*row) for row in rows]

    async def count_schedules(self, namespace_id: str, query: Query, types: dict[str, int]) -> int:
        where, params = visibility_sql.compile_where(query, types, visibility_sql.SCHEDULE_COLUMNS)
        sql = f"SELECT COUNT(*) FROM schedules WHERE namespace_id = ? AND ({where})"
        rows = await self._read(sql, (namespace_id, *params))
        return int(rows[0][0])

    async def list_all_schedules(self) -> list[StoredSchedule]:
        return [StoredSchedule(*row) for row in await self._read(Q["list_all_schedules"], ())]

    # -- tasks and timers ----------------------------------------------------------

    async def list_tasks(self) -> list[TaskRecord]:
        rows = await self._read(Q["list_tasks"], ())
        return [TaskRecord(r[0], r[1], r[2], TaskKind(r[3]), r[4], r[5], r[6], r[7]) for r in rows]

    async def list_timers(self) -> list[TimerRecord]:
        rows = await self._read(Q["list_timers"], ())
        return [TimerRecord(*r) for r in rows]

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["delete_task"], [(t,) for t in task_ids])
            conn.executemany(Q["delete_timer"], [(t,) for t in timer_ids])

        await self._submit(run, is_write=True)

    # -- the database thread -------------------------------------------------------

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        result: list[tuple[Any, ...]] = await self._submit(
            lambda conn: conn.execute(sql, params).fetchall(), is_write=False
        )
        return result

    async def _submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        if self._loop is None or self._thread is None:
            raise StorageError("the store is not open")
        future: asyncio.Future[T] = self._loop.create_future()
        jobs = self._reads if not is_write and self._reader is not None else self._jobs
        jobs.put(_Job(run, future, is_write))
        return await future

    def _serve_reads(self, conn: sqlite3.Connection) -> None:
        try:
            while (job := self._reads.get()) is not None:
                job.outcome = _attempt(job.run, conn)
                self._deliver([job])
        finally:
            conn.close()

    def _deliver(self, jobs: list[_Job]) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(_resolve_all, jobs)
        except RuntimeError:
            logger.warning("event loop closed before %d database results were delivered", len(jobs))

    def _serve(self) -> None:
        assert self._conn is not None
        conn = self._conn
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run_batch(conn, batch)
            if stop:
                return

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        reads = [job for job in batch if not job.is_write]
        for job in reads:
            job.outcome = _attempt(job.run, conn)
        if reads:  # answered now: they need not wait for the writes' fsync
            self._deliver(reads)
        writes = [job for job in batch if job.is_write]
        if writes:
            self._commit_group(conn, writes)
            self._deliver(writes)

    @staticmethod
    def _commit_group(conn: sqlite3.Connection, writes: list[_Job]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in writes:
                conn.execute("SAVEPOINT change")
                job.outcome = _attempt(job.run, conn)
                if job.outcome[0]:
                    conn.execute("RELEASE change")
                else:
                    conn.execute("ROLLBACK TO change")
                    conn.execute("RELEASE change")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            logger.exception("group commit of %d changes failed", len(writes))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = StorageError(f"database commit failed: {exc}")
            for job in writes:
                job.outcome = (False, failure)


def _attempt(run: Callable[[sqlite3.Connection], Any], conn: sqlite3.Connection) -> tuple[bool, Any]:
    try:
        return True, run(conn)
    except (ConcurrentUpdateError, NamespaceAlreadyExistsError) as exc:
        return False, exc
    except sqlite3.Error as exc:
        return False, StorageError(str(exc))
    except Exception as exc:
        logger.exception("unexpected error in a database job")
        return False, exc


def _resolve_all(batch: list[_Job]) -> None:
    for job in batch:
        if job.future.done():
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


def _key(key: ExecutionKey) -> tuple[str, str, str]:
    return (key.namespace_id, key.workflow_id, key.run_id)


def _namespace(row: tuple[Any, ...]) -> NamespaceRecord:
    return NamespaceRecord(row[0], row[1], json.loads(row[2]))


def _apply(conn: sqlite3.Connection, w: ExecutionWrite) -> None:
    """Run one execution change; raise ``ConcurrentUpdateError`` if a condition fails."""
    key = _key(w.key)
    if w.new_current is not None:
        _take_over_workflow_id(conn, w)
    if w.expected_version == 0:
        try:
            conn.execute(
                Q["insert_execution"],
                (*key, w.new_version, w.status, w.workflow_type, w.task_queue,
                 w.start_time, w.close_time, w.state),
            )
        except sqlite3.IntegrityError as exc:
            raise ConcurrentUpdateError("execution already exists") from exc
    else:
        cur = conn.execute(
            Q["update_execution"],
            (w.new_version, w.state, *key, w.expected_version),
        )
        if cur.rowcount != 1:
            raise ConcurrentUpdateError(f"execution {w.key} changed concurrently")
        conn.execute(Q["update_execution_status"],
                     (w.status, w.close_time, *key, w.status, w.close_time))
    if w.current_status is not None and w.new_current is None:
        conn.execute(Q["update_current_status"], (w.current_status, *key))
    if w.visibility is not None:
        v = w.visibility
        conn.execute(Q["update_visibility"], (v.execution_time, v.history_length,
                                              v.search_attributes, v.search_attribute_payloads,
                                              v.memo, *key))
    if w.events is not None:
        conn.execute(
            Q["insert_history_batch"],
            (*key, w.events.first_event_id, w.events.last_event_id, w.events.data),
        )
    conn.executemany(Q["insert_task"], [_task_row(t) for t in w.tasks_added])
    conn.executemany(Q["delete_task"], [(t,) for t in w.tasks_removed])
    conn.executemany(Q["insert_timer"], [_timer_row(t) for t in w.timers_added])
    conn.executemany(Q["delete_timer"], [(t,) for t in w.timers_removed])


def _apply_schedule(conn: sqlite3.Connection, w: ScheduleWrite) -> None:
    """Run one schedule change; raise ``ConcurrentUpdateError`` if its condition fails."""
    if w.expected_version == 0:
        try:
            conn.execute(Q["insert_schedule"], (w.namespace_id, w.schedule_id, w.create_time,
                                                w.state, w.search_attributes))
        except sqlite3.IntegrityError as exc:
            raise ConcurrentUpdateError("schedule already exists") from exc
    elif w.delete:
        cur = conn.execute(Q["delete_schedule"], (w.namespace_id, w.schedule_id, w.expected_version))
        if cur.rowcount != 1:
            raise ConcurrentUpdateError(f"schedule {w.schedule_id} changed concurrently")
    else:
        cur = conn.execute(Q["update_schedule"], (w.state, w.search_attributes, w.namespace_id,
                                                  w.schedule_id, w.expected_version))
        if cur.rowcount != 1:
            raise ConcurrentUpdateError(f"schedule {w.schedule_id} changed concurrently")
    conn.executemany(Q["insert_timer"], [_timer_row(t) for t in w.timers_added])
    conn.executemany(Q["delete_timer"], [(t,) for t in w.timers_removed])


def _take_over_workflow_id(conn: sqlite3.Connection, w: ExecutionWrite) -> None:
    assert w.new_current is not None
    c = w.new_current
    if w.replaced_run_id is None:
        try:
            conn.execute(
                Q["insert_current_execution"],
                (w.key.namespace_id, w.key.workflow_id, c.run_id, c.status, c.start_request_id),
            )
        except sqlite3.IntegrityError as exc:
            raise ConcurrentUpdateError("workflow ID taken concurrently") from exc
        return
    cur = conn.execute(
        Q["replace_current_execution"],
        (c.run_id, c.status, c.start_request_id, w.key.namespace_id, w.key.workflow_id,
         w.replaced_run_id),
    )
    if cur.rowcount != 1:
        raise ConcurrentUpdateError("workflow ID taken concurrently")


def _task_row(t: TaskRecord) -> tuple[Any, ...]:
    return (t.task_id, t.namespace_id, t.task_queue, int(t.kind), t.workflow_id, t.run_id,
            t.scheduled_event_id, t.attempt)


def _timer_row(t: TimerRecord) -> tuple[Any, ...]:
    return (t.timer_id, t.fire_at, t.namespace_id, t.workflow_id, t.run_id, t.kind, t.event_id,
            t.attempt)
