"""Plain values that cross the storage boundary. No driver types leak past it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cadenza.persistence.audit_records import AuditRecord


class TaskKind(enum.IntEnum):
    """Which kind of poller a queued task is for."""

    WORKFLOW = 1
    ACTIVITY = 2


@dataclass(frozen=True)
class TaskPriority:
    """Temporal's ``Priority`` as a task carries it; zero values mean "not set"."""

    priority_key: int = 0
    """1 (first) to 5 (last); 0 means the default, 3."""
    fairness_key: str = ""
    fairness_weight: float = 0.0
    """The fairness key's share; 0 means the default, 1."""

    def merged_over(self, base: TaskPriority) -> TaskPriority:
        """This priority with each field it leaves unset taken from ``base``, as Temporal
        merges a workflow's priority under its activities' and children's."""
        return TaskPriority(
            self.priority_key or base.priority_key,
            self.fairness_key or base.fairness_key,
            self.fairness_weight or base.fairness_weight,
        )


NO_PRIORITY = TaskPriority()


@dataclass(frozen=True)
class ExecutionKey:
    """Identifies one run of a workflow."""

    namespace_id: str
    workflow_id: str
    run_id: str


@dataclass(frozen=True)
class NamespaceRecord:
    """A registered namespace; ``info`` holds its descriptive fields as JSON-able data."""

    id: str
    name: str
    info: dict[str, object]


@dataclass(frozen=True)
class CurrentExecution:
    """The run that currently owns a workflow ID."""

    run_id: str
    status: int
    start_request_id: str


@dataclass(frozen=True)
class TaskRecord:
    """A workflow or activity task waiting for a worker to poll it."""

    task_id: str
    namespace_id: str
    task_queue: str
    kind: TaskKind
    workflow_id: str
    run_id: str
    scheduled_event_id: int
    attempt: int
    query_id: str = ""
    """Set on a query task, which is never stored as a task: it lives in memory, and in the
    ``queries`` table too when other replicas' workers may answer it (``SharedQuery``)."""
    priority: TaskPriority = NO_PRIORITY
    """How matching orders the task: its run's priority, merged under an activity's own."""

    @property
    def key(self) -> ExecutionKey:
        return ExecutionKey(self.namespace_id, self.workflow_id, self.run_id)


@dataclass(frozen=True)
class SharedQuery:
    """A query offered to every replica; its caller waits on replica ``owner``."""

    query_id: str
    owner: str
    namespace_id: str
    task_queue: str
    workflow_id: str
    run_id: str
    query: bytes
    """The serialized ``WorkflowQuery``."""
    created_at: float

    @property
    def key(self) -> ExecutionKey:
        return ExecutionKey(self.namespace_id, self.workflow_id, self.run_id)


@dataclass(frozen=True)
class QueryReply:
    """A worker's answer to a shared query, stored by the replica the worker polled."""

    completed_type: int
    """The worker's ``QueryResultType``: answered or failed."""
    result: bytes | None = None
    """Serialized ``Payloads`` of an answer."""
    error_message: str = ""
    failure: bytes | None = None
    """Serialized ``Failure`` of a failed query."""


@dataclass(frozen=True)
class TimerRecord:
    """A durable deadline: when it fires the engine re-checks the execution."""

    timer_id: str
    fire_at: float
    namespace_id: str
    workflow_id: str
    run_id: str
    kind: str
    event_id: int
    attempt: int

    @property
    def key(self) -> ExecutionKey:
        return ExecutionKey(self.namespace_id, self.workflow_id, self.run_id)


@dataclass(frozen=True)
class EventBatch:
    """Consecutive history events, already serialized as a ``History`` message."""

    first_event_id: int
    last_event_id: int
    data: bytes


@dataclass(frozen=True)
class StoredExecution:
    """An execution's mutable state as last committed."""

    version: int
    state: bytes
    activities: tuple[tuple[int, bytes], ...] = ()
    """Its pending activities' rows: (scheduled event ID, the encoded activity)."""


@dataclass(frozen=True)
class Visibility:
    """The listing view of a run, rewritten with each change."""

    execution_time: float
    history_length: int
    search_attributes: str
    """JSON object of filterable values (datetimes as epoch seconds)."""
    search_attribute_payloads: bytes
    """Serialized ``SearchAttributes`` as the client set them, for listing."""
    memo: bytes


@dataclass(frozen=True)
class ListCursor:
    """Where a listing page ended: its last run's sort key."""

    close_time: float | None
    start_time: float
    run_id: str


@dataclass(frozen=True)
class ListedExecution:
    """One row of a listing."""

    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: int
    start_time: float
    close_time: float | None
    execution_time: float
    history_length: int
    search_attribute_payloads: bytes
    memo: bytes
    search_attributes: str = "{}"
    """JSON object of filterable values, the run's system ones (root, parent, sizes) among them."""


@dataclass
class ExecutionWrite:
    """Everything one change to one execution writes, committed all together or not at all.

    ``expected_version`` is the version the change was computed from (0 for a
    new execution); the write fails with ``ConcurrentUpdateError`` if another
    writer got there first.
    """

    key: ExecutionKey
    expected_version: int
    state: bytes
    status: int
    workflow_type: str
    task_queue: str
    start_time: float
    close_time: float | None = None
    events: EventBatch | None = None
    tasks_added: list[TaskRecord] = field(default_factory=list)
    tasks_removed: list[str] = field(default_factory=list)
    timers_added: list[TimerRecord] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)
    new_current: CurrentExecution | None = None
    """Set when this write creates a run that takes over the workflow ID."""
    replaced_run_id: str | None = None
    """With ``new_current``: the closed run it replaces (None if the ID is new)."""
    current_status: int | None = None
    """Set when the run's status changes, to keep the current-execution row in step."""
    visibility: Visibility | None = None
    """What listing and filtering see of the run."""
    activities_written: list[tuple[int, bytes]] = field(default_factory=list)
    """Pending activities added or changed: (scheduled event ID, the encoded activity)."""
    activities_removed: list[int] = field(default_factory=list)
    """Scheduled event IDs of activities no longer pending."""
    audit: AuditRecord | None = None
    """The audit row of the client call that made this change, written in its transaction."""

    @property
    def new_version(self) -> int:
        return self.expected_version + 1


@dataclass(frozen=True)
class StoredSchedule:
    """A schedule's state as last committed."""

    namespace_id: str
    schedule_id: str
    version: int
    state: bytes


@dataclass
class ScheduleWrite:
    """One change to a schedule with its wake-up timers, committed together.

    ``expected_version`` 0 inserts; ``delete`` removes the row. The write fails
    with ``ConcurrentUpdateError`` if the version moved or (on insert) the ID is taken.
    """

    namespace_id: str
    schedule_id: str
    expected_version: int
    state: bytes
    create_time: float
    search_attributes: str = "{}"
    """JSON object of filterable values."""
    delete: bool = False
    timers_added: list[TimerRecord] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SavedView:
    """A named view of a namespace's workflow list, shared by everyone on the namespace."""

    namespace_id: str
    name: str
    query_string: str
    """The list's URL query string: its filters, columns and order."""
    created_at: float
    created_by: str = ""
    """Who saved it (``kind:name`` of the principal), empty when nobody was known."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """One API key as stored: what it grants and its times, and a hash of its secret only."""

    key_id: str
    name: str
    namespace: str
    """The namespace its role holds on; ``*`` for every namespace."""
    role: str
    cluster_admin: bool
    secret_hash: str
    """SHA-256 of the key's secret, hex; the key itself is never stored."""
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None


@dataclass(frozen=True)
class StoredQueueConfig:
    """A task queue's config as UpdateTaskQueueConfig left it: rate limits, weight overrides."""

    namespace_id: str
    task_queue: str
    queue_type: int
    """Temporal's ``TaskQueueType`` number (workflow, activity, nexus)."""
    revision: int
    """The table-wide revision of this row's last write: every later write has a larger one."""
    config: bytes
    """A serialized ``temporal.api.taskqueue.v1.TaskQueueConfig``."""


@dataclass(frozen=True)
class StoredVersionSets:
    """A task queue's compatible build-ID version sets, as the legacy versioning API left them."""

    namespace_id: str
    task_queue: str
    version: int
    """1 for the first write, one more for each after it."""
    sets: bytes
    """The sets as ``cadenza.matching.version_sets`` serializes them."""


@dataclass
class StandaloneActivityWrite:
    """One change to a standalone activity's run, with its tasks and timers, committed together.

    ``expected_version`` 0 inserts; ``delete`` removes the row. The write fails with
    ``ConcurrentUpdateError`` if the version moved or (on insert) the run exists.
    """

    namespace_id: str
    activity_id: str
    run_id: str
    expected_version: int
    activity_type: str
    task_queue: str
    status: int
    """ExecutionStatus in the workflow numbering, which list filters compare with."""
    start_time: float
    close_time: float | None
    request_id: str
    state: bytes
    search_attributes: str = "{}"
    """JSON object of filterable values (custom search attributes), written on insert."""
    delete: bool = False
    tasks_added: list[TaskRecord] = field(default_factory=list)
    tasks_removed: list[str] = field(default_factory=list)
    timers_added: list[TimerRecord] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredStandaloneActivity:
    """A standalone activity's run as stored: its state and the version it was read at."""

    namespace_id: str
    activity_id: str
    run_id: str
    version: int
    request_id: str
    state: bytes
    start_time: float = 0.0
    """When the run started: where a listing page ends (read by listings only)."""


@dataclass(frozen=True)
class StoredNexusEndpoint:
    """A Nexus endpoint as CreateNexusEndpoint or UpdateNexusEndpoint left it."""

    endpoint_id: str
    name: str
    version: int
    """1 when created, one more at each update."""
    created_time: float
    modified_time: float | None
    """When the last update was made; None if there was none."""
    spec: bytes
    """A serialized ``temporal.api.nexus.v1.EndpointSpec``."""
