"""The ``Store`` interface every backend implements: all the roles, opened and closed as one.

Consumers are typed against the narrow roles of ``roles``; ``Store`` is for
what holds the whole database (the server, the contract tests). Which backend
a URL opens is decided in ``backends``.
"""

from __future__ import annotations

from typing import Protocol

from cadenza.persistence.replica_link import ReplicaLink
from cadenza.persistence.roles import (
    ApiKeyStore,
    AuditStore,
    BatchStore,
    ConcurrencyStore,
    ExecutionStore,
    NamespaceStore,
    NexusEndpointStore,
    QueueConfigStore,
    RetentionStore,
    SavedViewStore,
    ScheduleStore,
    StandaloneActivityStore,
    TaskStore,
    VersionSetStore,
    VisibilityStore,
    WorkerDeploymentStore,
)

__all__ = ["ReplicaLink", "Store"]


class Store(
    NamespaceStore,
    ExecutionStore,
    TaskStore,
    VisibilityStore,
    RetentionStore,
    ScheduleStore,
    SavedViewStore,
    ApiKeyStore,
    AuditStore,
    QueueConfigStore,
    BatchStore,
    StandaloneActivityStore,
    NexusEndpointStore,
    ConcurrencyStore,
    WorkerDeploymentStore,
    VersionSetStore,
    Protocol,
):
    """Durable storage for namespaces, executions, histories, tasks, timers, schedules,
    saved views, batch operations, Nexus endpoints and task queue version sets."""

    async def open(self) -> None:
        """Connect and apply pending schema migrations.

        Raises ``SchemaError`` when the schema is newer than this Cadenza knows
        or an applied migration was altered, and ``StorageError`` when the
        database cannot be reached.
        """

    async def close(self) -> None:
        """Finish pending writes and disconnect."""

    def replicas(self) -> ReplicaLink | None:
        """The link to other replicas on the same database; None where there can be none."""
