"""The SQLite database threads: one writer that groups concurrent changes into one commit, one reader.

Every caller's change becomes a job on a queue. The writer thread takes all
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
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
from cadenza.persistence.errors import StorageError

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Job:
    """A unit of work for a database thread; ``run`` executes on that thread."""

    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    is_write: bool
    outcome: tuple[bool, Any] = field(default=(False, None))


class DatabaseThreads:
    """Runs jobs on the writer's connection, grouping writes, and reads on the reader's."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: sqlite3.Connection,
        reader: sqlite3.Connection | None,
        on_commit: Callable[[int, float], None] | None = None,
    ) -> None:
        """``reader`` is None for a database with one connection only; the writer then reads too.
        The reader's connection is closed by its thread when it stops. ``on_commit`` is told,
        on the writer's thread, how many changes each commit held and how long it took."""
        self._loop = loop
        self._on_commit = on_commit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._reads: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, args=(conn,), name="cadenza-sqlite", daemon=True)
        self._reader = (
            threading.Thread(
                target=self._serve_reads, name="cadenza-sqlite-reads", args=(reader,), daemon=True
            )
            if reader is not None
            else None
        )

    def start(self) -> None:
        self._thread.start()
        if self._reader is not None:
            self._reader.start()

    async def stop(self) -> None:
        """Finish the jobs already queued, then end both threads."""
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        if self._reader is not None:
            self._reads.put(None)
            await asyncio.to_thread(self._reader.join)

    async def submit(self, run: Callable[[sqlite3.Connection], T], *, is_write: bool) -> T:
        """Run ``run`` on a database thread; a write commits (with others) before this returns."""
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
        try:
            self._loop.call_soon_threadsafe(_resolve_all, jobs)
        except RuntimeError:
            logger.warning("event loop closed before %d database results were delivered", len(jobs))

    def _serve(self, conn: sqlite3.Connection) -> None:
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
            started = time.perf_counter()
            _commit_group(conn, writes)
            if self._on_commit is not None:
                self._on_commit(len(writes), time.perf_counter() - started)
            self._deliver(writes)


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
