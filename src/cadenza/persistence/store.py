"""The ``Store`` interface every backend implements, and the factory that picks one."""

from __future__ import annotations

from typing import Protocol

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
from cadenza.visibility.query import Query


class Store(Protocol):
    """Durable storage for namespaces, executions, histories, tasks and timers."""

    async def open(self) -> None:
        """Connect and create the schema if it is missing."""

    async def close(self) -> None:
        """Finish pending writes and disconnect."""

    async def create_namespace(self, record: NamespaceRecord) -> None:
        """Insert a namespace; ``NamespaceAlreadyExistsError`` if the name is taken."""

    async def get_namespace(self, name: str) -> NamespaceRecord | None: ...

    async def list_namespaces(self) -> list[NamespaceRecord]: ...

    async def update_namespace(self, record: NamespaceRecord) -> None: ...

    async def list_executions(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int,
        after: ListCursor | None,
    ) -> list[ListedExecution]:
        """Runs matching a checked filter, in Temporal's listing order, after ``after``."""

    async def count_executions(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        """(status or None, count) rows; grouped by status for GROUP BY ExecutionStatus."""

    async def get_current_execution(
        self, namespace_id: str, workflow_id: str
    ) -> CurrentExecution | None: ...

    async def load_execution(self, key: ExecutionKey) -> StoredExecution | None: ...

    async def read_history(self, key: ExecutionKey, first_event_id: int) -> list[EventBatch]:
        """Batches holding events from ``first_event_id`` on, in order."""

    async def commit(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        """Apply one execution change (and any that must go with it) atomically.

        Raises ``ConcurrentUpdateError`` when the version or current-run
        condition does not hold; then nothing was written.
        """

    async def delete_execution(self, key: ExecutionKey) -> None:
        """Remove a run with its history, tasks and timers (and its claim on the ID)."""

    async def delete_closed_before(
        self, namespace_id: str, cutoff: float, limit: int
    ) -> list[ExecutionKey]:
        """Remove up to ``limit`` runs closed before ``cutoff`` (retention); return them."""

    async def delete_namespace(self, namespace_id: str) -> None:
        """Remove a namespace with everything in it."""

    async def write_schedule(self, write: ScheduleWrite) -> None:
        """Insert, update or delete a schedule with its timers, atomically and conditionally."""

    async def get_schedule(self, namespace_id: str, schedule_id: str) -> StoredSchedule | None: ...

    async def list_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, offset: int
    ) -> list[StoredSchedule]:
        """Schedules matching a parsed filter, newest first."""

    async def count_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> int: ...

    async def list_all_schedules(self) -> list[StoredSchedule]:
        """Every schedule of every namespace, for recovery at start."""

    async def list_tasks(self) -> list[TaskRecord]:
        """Every task not yet handed to a worker, for recovery at start."""

    async def list_timers(self) -> list[TimerRecord]:
        """Every timer not yet fired, for recovery at start."""

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        """Drop tasks and timers that turned out to be obsolete."""


def open_store(url: str) -> Store:
    """Pick the backend from the URL; drivers are imported only when chosen."""
    if url.startswith(("postgres://", "postgresql://")):
        raise ValueError("PostgreSQL is not supported yet; use a SQLite file path or :memory:")
    from cadenza.persistence.sqlite.store import SqliteStore

    path = url.removeprefix("sqlite://")
    return SqliteStore(path)
