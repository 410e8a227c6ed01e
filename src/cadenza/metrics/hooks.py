"""The narrow interfaces the roles record through, and their do-nothing forms.

A role holds one of these, never a metric: matching tells a ``TaskObserver``
what it queued and handed out, the SQLite writer tells whoever set
``on_group_commit``. With metrics off the server hands out ``UNOBSERVED``,
so the roles' code is the same either way. Nothing here imports
``prometheus_client``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from cadenza.persistence.records import TaskKind, TaskRecord


class TaskObserver(Protocol):
    """What matching reports about its queues."""

    def added(self, task: TaskRecord) -> None:
        """A task joined its queue (or was handed to a waiting poll at once)."""

    def polled(
        self, namespace_id: str, name: str, kind: TaskKind, task: TaskRecord | None, waited: bool
    ) -> None:
        """A poll ended: with ``task``, taken from the backlog or (``waited``) as it came; or empty."""

    def left(self, task_ids: Iterable[str]) -> None:
        """Tasks left their queue without a poll taking them (their run closed, or a replica
        forgot them)."""


class Unobserved:
    """A ``TaskObserver`` that records nothing."""

    def added(self, task: TaskRecord) -> None:
        pass

    def polled(
        self, namespace_id: str, name: str, kind: TaskKind, task: TaskRecord | None, waited: bool
    ) -> None:
        pass

    def left(self, task_ids: Iterable[str]) -> None:
        pass


UNOBSERVED = Unobserved()

GroupCommitObserver = Callable[[int, float], None]
"""Told the number of changes in a group commit and the seconds it took, on the writer's thread."""


@runtime_checkable
class GroupCommitting(Protocol):
    """A store that groups concurrent changes into one commit (SQLite)."""

    on_group_commit: GroupCommitObserver | None


@runtime_checkable
class ReportsWal(Protocol):
    """A store with a write-ahead log file whose size an operator watches."""

    def wal_bytes(self) -> int: ...


@runtime_checkable
class ReportsPool(Protocol):
    """A store with a connection pool."""

    def pool_use(self) -> tuple[int, int, int]:
        """(connections open, of them idle, most allowed)."""


@runtime_checkable
class ReportsLease(Protocol):
    """A replica link that renews a lease on the shared database."""

    replica_id: str
    lease_seconds: float
    """How long a lease lasts unless renewed."""
    lease_renewed_at: float
    """Wall-clock time of the last renewal that succeeded (0 before the first)."""


@runtime_checkable
class CountsHits(Protocol):
    """A cache that counts its lookups."""

    hits: int
    misses: int

    def size(self) -> int:
        """Entries held now."""
