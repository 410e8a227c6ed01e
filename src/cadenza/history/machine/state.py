"""An execution's mutable state: what history alone does not say, kept beside it.

The state is stored as JSON: small, readable in the database, and free of
Python-specific encodings. Payload-bearing protobuf values (failures,
buffered events) travel inside it as base64 of their serialized bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from temporalio.api.enums.v1 import WorkflowExecutionStatus

from cadenza.history.machine.encoded import Encoded as _Encoded
from cadenza.persistence.records import NO_PRIORITY, TaskPriority

RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


@dataclass
class RetryPolicy:
    """Temporal's retry policy with the server's defaults already filled in."""

    initial_interval: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval: float = 100.0
    maximum_attempts: int = 0
    non_retryable_error_types: list[str] = field(default_factory=list)


@dataclass
class WorkflowTask:
    """The workflow task that is scheduled or running; at most one per execution."""

    scheduled_event_id: int
    attempt: int
    task_queue: str
    """The queue it was (or will be) dispatched on: the sticky queue or the normal one."""
    scheduled_time: float
    task_id: str
    started_event_id: int = 0
    started_time: float = 0.0
    request_id: str = ""
    identity: str = ""
    timer_id: str = ""
    """The start-to-close timeout timer while the task runs."""
    transient: bool = False
    """A retry whose events are written only if it completes."""
    speculative: bool = False
    """Scheduled only to carry updates: dropped without a trace if all it does is reject them."""
    sticky_queue: str = ""
    build_id: str = ""
    history_size: int = 0


@dataclass
class Activity(_Encoded):
    """A scheduled activity that has not yet closed."""

    scheduled_event_id: int
    activity_id: str
    activity_type: str
    task_queue: str
    scheduled_time: float
    """When the first attempt was scheduled: the schedule-to-close clock starts here."""
    schedule_to_close: float
    schedule_to_start: float
    start_to_close: float
    heartbeat_timeout: float
    retry: RetryPolicy
    attempt: int = 1
    attempt_scheduled_time: float = 0.0
    task_id: str = ""
    started_time: float = 0.0
    request_id: str = ""
    identity: str = ""
    timer_id: str = ""
    """The schedule-to-close timer, for the activity's whole life."""
    attempt_timer_id: str = ""
    """The start-to-close timer of the running attempt."""
    last_failure: str = ""
    """base64 of the serialized ``Failure`` of the previous attempt."""
    heartbeat_details: str = ""
    """base64 of the serialized ``Payloads`` of the last heartbeat, handed to the next attempt."""
    last_heartbeat_time: float = 0.0
    heartbeat_timer_id: str = ""
    schedule_to_start_timer_id: str = ""
    cancel_requested_event_id: int = 0
    """Set once the workflow asked to cancel the activity."""
    control_queue: str = ""
    """The control queue of the worker process running the attempt, to push it commands."""
    retry_timer_id: str = ""
    """The timer that schedules the next attempt after a backoff."""
    paused: bool = False
    """Paused by an operator: no attempt is dispatched until it is unpaused."""
    pause_time: float = 0.0
    pause_identity: str = ""
    pause_reason: str = ""
    reset_requested: bool = False
    """Reset while an attempt ran: its worker learns so on a heartbeat, and when the attempt
    ends the attempt count starts over."""
    priority: TaskPriority = NO_PRIORITY
    """The activity's own priority, as its command set it; its tasks merge it over the run's."""

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_event_id > 0

    @property
    def started(self) -> bool:
        return self.started_time > 0


class PendingActivities(dict[int, Activity]):
    """A run's pending activities by scheduled event ID, noting which were added, changed
    (any field set) or removed since the last write, so a write finds them without a scan."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: set[int] = set()

    def __setitem__(self, key: int, activity: Activity) -> None:
        super().__setitem__(key, activity)
        activity.__dict__["_tracker"] = (self.touched, key)
        self.touched.add(key)

    def __delitem__(self, key: int) -> None:
        super().__delitem__(key)
        self.touched.add(key)

    def pop(self, key: int, *default: Any) -> Any:
        if key in self:
            self.touched.add(key)
        return super().pop(key, *default)

    def clear(self) -> None:
        self.touched.update(self)
        super().clear()

    def _untracked(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("pending activities change one at a time, so each change is noted")

    update = setdefault = popitem = __ior__ = _untracked


@dataclass
class UserTimer(_Encoded):
    """A timer the workflow started and has not yet seen fire or cancelled."""

    timer_id: str
    started_event_id: int
    fire_at: float
    record_id: str


@dataclass
class Child(_Encoded):
    """A child workflow this run started (or is starting)."""

    initiated_event_id: int
    namespace: str
    workflow_id: str
    workflow_type: str
    parent_close_policy: int
    run_id: str = ""
    started_event_id: int = 0
    closed: bool = False


@dataclass
class Parent:
    """The run that started this one as its child."""

    namespace: str
    namespace_id: str
    workflow_id: str
    run_id: str
    initiated_event_id: int
    root_workflow_id: str = ""  # the top of the parent chain this run belongs to (its root execution)
    root_run_id: str = ""
    pinned_version: str = ""  # the parent's, which the child inherits on a queue that version polls


@dataclass
class ExternalRequest(_Encoded):
    """A signal or cancellation this run asked to deliver to another workflow."""

    initiated_event_id: int
    kind: str
    namespace: str
    workflow_id: str
    run_id: str


@dataclass
class NexusOperation(_Encoded):
    """A Nexus operation this run scheduled that has not yet closed."""

    scheduled_event_id: int
    endpoint: str
    endpoint_id: str
    service: str
    operation: str
    request_id: str
    schedule_to_close: float
    operation_token: str = ""
    """Set once the handler started it asynchronously."""
    started_event_id: int = 0
    timer_id: str = ""  # the schedule-to-close timer
    attempt: int = 1  # which attempt at delivering the start request comes next
    cancel_requested_event_id: int = 0
    cancel_attempt: int = 0
    """Which attempt at delivering the cancel request comes next; 0 while none is due."""


@dataclass
class UpdateRecord(_Encoded):
    """An update this run knows, at the stage it reached."""

    accepted_event_id: int = 0
    """Its Accepted event; 0 until the worker accepts it."""
    outcome: str = ""
    """base64 of its ``Outcome`` once it completed, or once the worker rejected it."""
    request: str = ""
    """base64 of its ``Request`` while admitted and not yet answered by the worker."""


@dataclass
class MutableState:
    """Everything about one run that the engine needs besides its history."""

    namespace_id: str
    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    start_time: float
    start_request_id: str
    workflow_task_timeout: float
    run_timeout: float
    execution_timeout: float
    status: int = RUNNING
    close_time: float = 0.0
    next_event_id: int = 1
    previous_started_event_id: int = 0
    """The started event of the last completed workflow task (0 if none)."""
    sticky_queue: str = ""
    sticky_schedule_to_start: float = 0.0
    workflow_task: WorkflowTask | None = None
    activities: PendingActivities = field(default_factory=PendingActivities)
    buffered_events: list[str] = field(default_factory=list)
    """base64 of serialized events that arrived while a workflow task was running."""
    close_event_id: int = 0
    timers: dict[str, UserTimer] = field(default_factory=dict)
    cancel_requested: bool = False
    run_timer_id: str = ""
    """The workflow run/execution timeout timer."""
    attempt: int = 1
    """Which retry of the workflow this run is (1 for the first)."""
    retry_policy: RetryPolicy | None = None
    """The workflow's own retry policy, if it has one."""
    cron_schedule: str = ""
    first_execution_run_id: str = ""
    execution_deadline: float = 0.0
    """When the whole chain of runs must end (0 for never)."""
    signal_request_ids: list[str] = field(default_factory=list)
    children: dict[int, Child] = field(default_factory=dict)
    parent: Parent | None = None
    external: dict[int, ExternalRequest] = field(default_factory=dict)
    updates: dict[str, UpdateRecord] = field(default_factory=dict)
    search_attributes: dict[str, str] = field(default_factory=dict)
    """Current search attributes: name -> base64 of the serialized ``Payload``."""
    memo: str = ""  # base64 of the serialized current Memo
    execution_time: float = 0.0
    """When the first workflow task may run: start time plus any start backoff."""
    backoff_timer_id: str = ""
    """Delays the first workflow task (start delay, retry backoff, cron, a concurrency slot)."""
    awaits_slot: bool = False
    """The first workflow task waits for the run's concurrency slots (a full ``queue`` limit
    stood in its client's start's way): ``backoff_timer_id`` is a ``TimerKind.AWAIT_SLOT``."""
    history_size: int = 0
    state_transitions: int = 0
    """Committed changes to this run that Temporal would count as state transitions."""
    reset_run_id: str = ""
    """The run a reset of this run made (the latest, if it was reset more than once)."""
    last_reset_time: float = 0.0
    """When a reset made this run (0 if none did)."""
    priority: TaskPriority = NO_PRIORITY
    """The run's priority: its start's, inherited through continue-as-new, retries and cron."""
    paused_time: float = 0.0
    pause: dict[str, str] = field(default_factory=dict)
    """When an operator paused the run (0 if not; kept once it closes, as on Temporal), and
    who, why, under which request ID (``identity``, ``reason``, ``request_id``)."""
    nexus_operations: dict[int, NexusOperation] = field(default_factory=dict)
    completion_callbacks: list[str] = field(default_factory=list)
    """base64 of each serialized ``Callback`` its start asked for, to call when it closes."""
    versioning: str = ""  # base64 of its serialized WorkflowExecutionVersioningInfo, if versioned
    _stored_activities: set[int] = field(default_factory=set, init=False, repr=False, compare=False)
    """The activities that have a row of their own in the store, as of the last write."""

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def paused(self) -> bool:
        """Running, but paused: no workflow task is scheduled and no activity dispatched."""
        return self.running and self.paused_time > 0

    @property
    def root(self) -> tuple[str, str]:
        """(workflow ID, run ID) of the root execution: the top of the parent chain, else itself."""
        if self.parent is not None and self.parent.root_workflow_id:
            return self.parent.root_workflow_id, self.parent.root_run_id
        return self.workflow_id, self.run_id

    def to_bytes(self) -> bytes:
        """The whole state, pending activities included, as one JSON document."""
        return self._encode(_COLLECTIONS)

    def to_stored(self) -> tuple[bytes, list[tuple[int, bytes]], list[int]]:
        """What a write stores: the state without its pending activities, then the rows of
        the activities added or changed since the last write, and the ones gone since.

        Each activity is a row of its own, so a change rewrites only those it touched.
        The rows are taken as written from here on: a write that fails drops this copy.
        """
        written: list[tuple[int, bytes]] = []
        removed: list[int] = []
        for key in sorted(self.activities.touched):
            activity = self.activities.get(key)
            if activity is not None:
                written.append((key, activity.encoded()))
                self._stored_activities.add(key)
            elif key in self._stored_activities:
                removed.append(key)
                self._stored_activities.discard(key)
        self.activities.touched.clear()
        return self._encode(_COLLECTIONS[1:]), written, removed

    def _encode(self, collections: tuple[str, ...]) -> bytes:
        # Written on every change: the per-item records bring their cached JSON,
        # so only the items this change touched are encoded again.
        fields = {name: value for name, value in self.__dict__.items() if name[0] != "_"}
        if "activities" not in collections:
            del fields["activities"]
        for name in collections:
            fields[name] = {key: orjson.Fragment(item.encoded()) for key, item in fields[name].items()}
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def from_bytes(cls, data: bytes, activities: Iterable[tuple[int, bytes]] = ()) -> MutableState:
        """The state from ``to_bytes``, or from ``to_stored`` with its activities' rows.

        A state stored before activities had rows of their own holds them inside; its
        next write moves them to rows.
        """
        raw: dict[str, Any] = orjson.loads(data)
        wft = raw.pop("workflow_task")
        inside = raw.pop("activities", {})
        timers = raw.pop("timers", {})
        retry_policy = raw.pop("retry_policy", None)
        children = raw.pop("children", {})
        parent = raw.pop("parent", None)
        external = raw.pop("external", {})
        updates = raw.pop("updates", {})
        priority = raw.pop("priority", None)
        nexus_operations = raw.pop("nexus_operations", {})
        state = cls(**raw)
        state.nexus_operations = {int(k): NexusOperation(**v) for k, v in nexus_operations.items()}
        state.priority = TaskPriority(**priority) if priority else NO_PRIORITY
        state.updates = {k: UpdateRecord(**v) for k, v in updates.items()}
        state.children = {int(k): Child(**v) for k, v in children.items()}
        state.parent = Parent(**parent) if parent else None
        state.external = {int(k): ExternalRequest(**v) for k, v in external.items()}
        state.retry_policy = RetryPolicy(**retry_policy) if retry_policy else None
        state.timers = {k: UserTimer(**v) for k, v in timers.items()}
        state.workflow_task = WorkflowTask(**wft) if wft else None
        for key, row in activities:
            activity = _activity(orjson.loads(row))
            activity.__dict__["_json"] = row  # as stored: unchanged until a field is set
            state.activities[key] = activity
            state._stored_activities.add(key)
        state.activities.touched.clear()
        for k, v in inside.items():  # stored inside the state: to be moved to rows
            state.activities[int(k)] = _activity(v)
        return state


_COLLECTIONS = ("activities", "timers", "children", "external", "updates", "nexus_operations")
"""The fields of ``MutableState`` holding per-item records, encoded item by item."""


def _activity(raw: dict[str, Any]) -> Activity:
    retry = RetryPolicy(**raw.pop("retry"))
    priority = raw.pop("priority", None)
    return Activity(retry=retry, priority=TaskPriority(**priority) if priority else NO_PRIORITY, **raw)
