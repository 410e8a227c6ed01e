"""The narrow seams of storage: each consumer is typed against the role it plays with the store.

A backend implements them all (``store.Store`` combines them), but the
namespace registry sees only namespaces, the scheduler only schedules, and so
on: what a component may touch is in its signature, and a test can hand it a
small fake instead of a whole database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord
from cadenza.persistence.records import (
    ApiKeyRecord,
    CurrentExecution,
    EventBatch,
    ExecutionKey,
    ExecutionWrite,
    ListCursor,
    ListedExecution,
    NamespaceRecord,
    SavedView,
    ScheduleWrite,
    StandaloneActivityWrite,
    StoredExecution,
    StoredNexusEndpoint,
    StoredQueueConfig,
    StoredSchedule,
    StoredStandaloneActivity,
    StoredVersionSets,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.replica_link import ReplicaLink
from cadenza.visibility.query import Query


class NamespaceStore(Protocol):
    """Namespaces and their settings."""

    async def create_namespace(self, record: NamespaceRecord) -> None:
        """Insert a namespace; ``NamespaceAlreadyExistsError`` if the name is taken."""

    async def get_namespace(self, name: str) -> NamespaceRecord | None: ...

    async def list_namespaces(self) -> list[NamespaceRecord]: ...

    async def update_namespace(self, record: NamespaceRecord) -> None: ...

    async def delete_namespace(self, namespace_id: str) -> None:
        """Remove a namespace with everything in it."""


class ExecutionReader(Protocol):
    """Executions as stored: which run holds a workflow ID, a run's state, its history."""

    async def get_current_execution(self, namespace_id: str, workflow_id: str) -> CurrentExecution | None: ...

    async def load_execution(self, key: ExecutionKey) -> StoredExecution | None: ...

    async def execution_version(self, key: ExecutionKey) -> int | None:
        """The run's stored version, without its state: None if there is no such run."""

    async def read_history(self, key: ExecutionKey, first_event_id: int) -> list[EventBatch]:
        """Batches holding events from ``first_event_id`` on, in order."""


class ExecutionStore(ExecutionReader, Protocol):
    """Executions changed: each change one conditional, atomic write."""

    async def commit(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        """Apply one execution change (and any that must go with it) atomically.

        Raises ``ConcurrentUpdateError`` when the version or current-run
        condition does not hold; then nothing was written.
        """

    async def delete_execution(self, key: ExecutionKey) -> None:
        """Remove a run with its history, tasks and timers (and its claim on the ID)."""


class TaskStore(Protocol):
    """The stored tasks and timers: handed back at start, dropped when obsolete."""

    async def list_tasks(self) -> list[TaskRecord]:
        """Every task not yet handed to a worker, for recovery at start."""

    async def list_timers(self) -> list[TimerRecord]:
        """Every timer not yet fired, for recovery at start."""

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        """Drop tasks and timers that turned out to be obsolete."""


class VisibilityStore(Protocol):
    """Listing and counting runs by a checked filter."""

    async def list_executions(
        self,
        namespace_id: str,
        query: Query,
        types: dict[str, int],
        limit: int,
        after: ListCursor | None,
    ) -> list[ListedExecution]:
        """Runs matching a checked filter, in Temporal's listing order, after ``after``."""

    async def count_executions(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        """(status or None, count) rows; grouped by status for GROUP BY ExecutionStatus."""


class RetentionStore(Protocol):
    """Closed runs deleted once their namespace's retention has passed."""

    async def delete_closed_before(self, namespace_id: str, cutoff: float, limit: int) -> list[ExecutionKey]:
        """Remove up to ``limit`` runs closed before ``cutoff`` (retention); return them."""


class ScheduleStore(Protocol):
    """Schedules: their state, written with their timers, and their listing."""

    async def write_schedule(self, write: ScheduleWrite) -> None:
        """Insert, update or delete a schedule with its timers, atomically and conditionally."""

    async def get_schedule(self, namespace_id: str, schedule_id: str) -> StoredSchedule | None: ...

    async def list_schedules(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, offset: int
    ) -> list[StoredSchedule]:
        """Schedules matching a parsed filter, newest first."""

    async def count_schedules(self, namespace_id: str, query: Query, types: dict[str, int]) -> int: ...

    async def list_all_schedules(self) -> list[StoredSchedule]:
        """Every schedule of every namespace, for recovery at start."""


class HistoryStore(ExecutionStore, Protocol):
    """What the history service uses: executions, dropping obsolete tasks and timers, and
    whether other replicas share the database (a cached run may then be stale)."""

    async def remove_stale(self, task_ids: list[str], timer_ids: list[str]) -> None:
        """Drop tasks and timers that turned out to be obsolete."""

    def replicas(self) -> ReplicaLink | None:
        """The link to other replicas on the same database; None where there can be none."""


class SavedViewStore(Protocol):
    """Saved views of the workflow list, each unique by name within its namespace."""

    async def saved_views(self, namespace_id: str) -> list[SavedView]:
        """The namespace's saved views, by name."""

    async def save_view(
        self, namespace_id: str, name: str, query_string: str, created_at: float, created_by: str
    ) -> bool:
        """Store a new view; False, storing nothing, if the namespace has one by that name."""

    async def delete_view(self, namespace_id: str, name: str) -> bool:
        """Forget a view; False if there was none by that name."""


class BatchStore(Protocol):
    """Batch operations: their records, progress written as their runner goes, and which
    replica runs each (one only)."""

    async def insert_batch(self, batch: StoredBatch) -> bool:
        """Store a new batch; False, storing nothing, if its namespace has one by that job ID."""

    async def get_batch(self, namespace_id: str, job_id: str) -> StoredBatch | None: ...

    async def list_batches(self, namespace_id: str, limit: int, offset: int) -> list[StoredBatch]:
        """The namespace's batches, running ones first, then by close time, newest first."""

    async def count_running_batches(self, namespace_id: str) -> int: ...

    async def save_batch_progress(
        self, namespace_id: str, job_id: str, owner: str, progress: BatchProgress
    ) -> bool:
        """Record a running batch's progress; False, writing nothing, unless ``owner`` still
        runs it (it was stopped, or another replica took it over)."""

    async def close_batch(
        self,
        namespace_id: str,
        job_id: str,
        owner: str | None,
        state: int,
        close_time: float,
        progress: BatchProgress,
    ) -> bool:
        """Close a running batch with its final state and counts; with ``owner``, only if that
        owner still runs it. False, writing nothing, if it is not running (so)."""

    async def claim_batches(self, owner: str) -> list[StoredBatch]:
        """The running batches no live replica runs, now ``owner``'s to run (one claimer wins
        each)."""


class ApiKeyStore(Protocol):
    """API keys: created, listed, revoked, and when each was last used."""

    async def create_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new key; ``ConcurrentUpdateError`` if its ID is taken."""

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this ID, revoked and expired ones too."""

    async def list_api_keys(self, namespace: str | None = None) -> list[ApiKeyRecord]:
        """Every key, oldest first; only those of ``namespace`` when given."""

    async def revoke_api_key(self, key_id: str, revoked_at: float) -> bool:
        """Mark the key revoked from ``revoked_at``; False if there is no such key or it was
        revoked already."""

    async def touch_api_key(self, key_id: str, used_at: float) -> None:
        """Record that the key was used at ``used_at``."""


class AuditStore(Protocol):
    """The audit log: who called what, and how it ended."""

    async def append_audit(self, record: AuditRecord) -> None:
        """Store one row on its own (a call that changed no execution)."""

    async def list_audit(self, wanted: AuditFilter) -> list[AuditRecord]:
        """Rows matching ``wanted``, newest first."""

    async def delete_audit_before(self, cutoff: float, limit: int) -> int:
        """Remove up to ``limit`` of the oldest rows recorded before ``cutoff``; return how many."""


class QueueConfigStore(Protocol):
    """Task queue configs (rate limits, fairness weight overrides), a row per namespace, queue
    and queue type, each written with the next revision of the whole table."""

    async def get_queue_config(
        self, namespace_id: str, task_queue: str, queue_type: int
    ) -> StoredQueueConfig | None: ...

    async def put_queue_config(
        self, namespace_id: str, task_queue: str, queue_type: int, config: bytes, revision: int
    ) -> StoredQueueConfig | None:
        """Write a queue's config if its row is still at ``revision`` (0: if it has none yet);
        the row as written, or None if another write came first and nothing changed."""

    async def queue_configs_since(self, revision: int) -> list[StoredQueueConfig]:
        """Every row written after ``revision``, in the order written (0: all of them)."""


class VersionSetStore(Protocol):
    """Each task queue's compatible build-ID version sets (table ``task_queue_version_sets``), a
    row per namespace and queue written conditionally on its version, and the queues holding
    each build ID (table ``task_queue_build_ids``), written with it."""

    async def get_version_sets(self, namespace_id: str, task_queue: str) -> StoredVersionSets | None: ...

    async def put_version_sets(
        self, namespace_id: str, task_queue: str, sets: bytes, build_ids: Sequence[str], version: int
    ) -> bool:
        """Write a queue's sets, holding exactly ``build_ids``, if its row is still at ``version``
        (0: if it has none yet); False if another write came first and nothing changed."""

    async def queues_with_build_id(self, namespace_id: str, build_id: str) -> list[str]:
        """The namespace's queues whose sets hold ``build_id``, by name."""


class StandaloneActivityStore(Protocol):
    """Standalone activities (table ``standalone_activities``): each run's state, written with
    its tasks and timers in one conditional transaction, and listed with the filter language."""

    async def write_standalone_activity(self, write: StandaloneActivityWrite) -> None:
        """Apply one change; ``ConcurrentUpdateError`` if another writer came first."""

    async def get_standalone_activity(
        self, namespace_id: str, activity_id: str, run_id: str
    ) -> StoredStandaloneActivity | None:
        """The run ``run_id`` of the activity, or its latest run when ``run_id`` is empty."""

    async def list_standalone_activities(
        self,
        namespace_id: str,
        query: Query,
        types: dict[str, int],
        limit: int,
        after: tuple[float, str, str] | None,
    ) -> list[StoredStandaloneActivity]:
        """A page of the runs a checked filter matches, newest first (start time, then activity
        and run ID), after the run ``after`` names (its start time, activity ID, run ID)."""

    async def count_standalone_activities(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        """(status, count) rows when the query groups by ExecutionStatus, else one (None, count)."""

    async def delete_closed_standalone_activities(self, namespace_id: str, cutoff: float, limit: int) -> int:
        """Remove up to ``limit`` runs closed before ``cutoff``, oldest first; return how many."""


class NexusEndpointStore(Protocol):
    """Nexus endpoints, a row each, names unique."""

    async def create_nexus_endpoint(self, endpoint: StoredNexusEndpoint) -> bool:
        """Store a new endpoint; False, storing nothing, if its ID or name is taken."""

    async def get_nexus_endpoint(self, endpoint_id: str) -> StoredNexusEndpoint | None: ...

    async def get_nexus_endpoint_by_name(self, name: str) -> StoredNexusEndpoint | None: ...

    async def update_nexus_endpoint(self, endpoint: StoredNexusEndpoint, version: int) -> bool:
        """Replace the endpoint if its row is still at ``version``; False, changing nothing, if it
        is not, is gone, or the new name is another endpoint's."""

    async def delete_nexus_endpoint(self, endpoint_id: str) -> bool:
        """Remove the endpoint; False if there was none."""

    async def list_nexus_endpoints(self, after_id: str, limit: int) -> list[StoredNexusEndpoint]:
        """Up to ``limit`` endpoints whose IDs sort after ``after_id``, in ID order."""


class ConcurrencyStore(Protocol):
    """Concurrency limits and their slots, a row per running holder, so every server on the
    database counts the same slots."""

    async def list_concurrency_limits(self) -> list[ConcurrencyLimitRecord]: ...

    async def put_concurrency_limit(self, limit: ConcurrencyLimitRecord) -> None:
        """Set a scope's limit, replacing the one it had."""

    async def delete_concurrency_limit(self, namespace_id: str, scope: str, name: str) -> bool:
        """Remove a scope's limit (its slots stay until their holders end); False if it had none."""

    async def acquire_slot(self, slot: SlotRecord, max_running: int, fairness_key_max: int) -> str:
        """Store ``slot`` if its scope holds fewer than ``max_running`` slots and its fairness
        key fewer than ``fairness_key_max`` (0: no such cap), as one step every server takes in
        turn. ``taken``: stored now (or moved on from an earlier attempt of its holder);
        ``held``: this very attempt holds it already (another server took it); ``full``."""

    async def release_slots(self, slots: list[SlotRecord]) -> None:
        """Delete these slots (those already gone are skipped)."""

    async def list_slots(self) -> list[SlotRecord]: ...


class WorkerDeploymentStore(Protocol):
    """Worker Deployments, a row per namespace and deployment name holding the whole
    deployment (versions, their task queues, routing) as one document. Each write is
    conditional on the row's revision, which it advances, so concurrent writers never lose
    each other's changes: the one that loses reads the row again."""

    async def worker_deployments(self) -> list[tuple[str, str, int, bytes]]:
        """Every stored deployment: (namespace ID, name, revision, document)."""

    async def get_worker_deployment(self, namespace_id: str, name: str) -> tuple[int, bytes] | None:
        """(revision, document) of one deployment; None if it has no row."""

    async def put_worker_deployment(self, namespace_id: str, name: str, data: bytes, revision: int) -> bool:
        """Write a deployment if its row is still at ``revision`` (0: if it has none yet);
        False if another write came first and nothing changed."""

    async def delete_worker_deployment(self, namespace_id: str, name: str, revision: int) -> bool:
        """Delete a deployment's row if it is still at ``revision``."""
