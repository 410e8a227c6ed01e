"""What happened in a run, read from its history events: one ``Item`` per activity, timer, child
workflow, signal, update, marker, the start and the close; and the workflow tasks that
completed. Pure: history events in, values out."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType, RetryState, StartChildWorkflowExecutionFailedCause
from temporalio.api.history.v1 import HistoryEvent


class Kind(enum.Enum):
    START = "start"
    ACTIVITY = "activity"
    TIMER = "timer"
    CHILD = "child workflow"
    SIGNAL = "signal"
    UPDATE = "update"
    MARKER = "marker"
    CANCEL_REQUEST = "cancel request"
    CLOSE = "close"


ARRIVALS = frozenset({Kind.SIGNAL, Kind.UPDATE, Kind.CANCEL_REQUEST})
"""Kinds that come from outside the workflow: no workflow task schedules them."""


class Status(enum.Enum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued as new"
    FIRED = "fired"
    RECEIVED = "received"
    ADMITTED = "admitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RECORDED = "recorded"

    @property
    def css(self) -> str:
        """The status as a CSS class name."""
        return self.name.lower().replace("_", "-")


BAD = frozenset({Status.FAILED, Status.TIMED_OUT, Status.TERMINATED, Status.REJECTED})


@dataclass(frozen=True)
class RunRef:
    """A run another page draws: a child workflow's, or the next one of a chain."""

    namespace: str
    workflow_id: str
    run_id: str


@dataclass
class Item:
    """One thing the workflow did or received, from its first event to its last."""

    id: str
    kind: Kind
    label: str
    status: Status
    first_event_id: int
    first_at: float
    scheduled_by: int | None = None
    """The completed workflow task whose commands made it (None for what came from outside)."""
    triggers: list[int] = field(default_factory=list)
    """Positions (event IDs) of its events the workflow reacts to: a close, a child's start, a signal."""
    started_at: float | None = None
    closed_at: float | None = None
    close_event_id: int | None = None
    attempts: int = 0
    failure: str | None = None
    link: RunRef | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def retried(self) -> bool:
        return self.attempts > 1


@dataclass(frozen=True)
class WorkflowTask:
    """A workflow task that completed: the events up to ``started_id`` were delivered to it."""

    started_id: int
    completed_id: int


@dataclass(frozen=True)
class Run:
    """A run's items in the order they began, and its completed workflow tasks in order."""

    items: tuple[Item, ...]
    workflow_tasks: tuple[WorkflowTask, ...]
    began_at: float
    last_at: float


_Handler = Callable[["_Reader", HistoryEvent], None]


def seconds(event: HistoryEvent) -> float:
    """The event's time as seconds since the epoch."""
    return event.event_time.seconds + event.event_time.nanos / 1e9


def read_run(events: Iterable[HistoryEvent], namespace: str) -> Run:
    """The items and workflow tasks of a run's history (events in order, as the server sends them)."""
    reader = _Reader(namespace)
    for event in events:
        reader.read(event)
    return reader.run()


class _Reader:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.items: dict[str, Item] = {}
        self.by_event: dict[int, Item] = {}
        self.started_wft: dict[int, int] = {}
        self.workflow_tasks: list[WorkflowTask] = []
        self.last_started_wft = 0
        self.began_at: float | None = None
        self.last_at = 0.0

    def run(self) -> Run:
        began = self.last_at if self.began_at is None else self.began_at
        return Run(tuple(self.items.values()), tuple(self.workflow_tasks), began, self.last_at)

    def add(self, item: Item, *event_ids: int) -> Item:
        self.items[item.id] = item
        for event_id in (item.first_event_id, *event_ids):
            self.by_event[event_id] = item
        return item

    def read(self, event: HistoryEvent) -> None:
        self.last_at = max(self.last_at, seconds(event))
        handler = _HANDLERS.get(event.event_type)
        if handler is not None:
            handler(self, event)


def _item(kind: Kind, prefix: str, event: HistoryEvent, label: str, status: Status) -> Item:
    return Item(f"{prefix}-{event.event_id}", kind, label, status, event.event_id, seconds(event))


def _close(item: Item | None, event: HistoryEvent, status: Status, failure: str | None = None) -> None:
    if item is None:
        return
    item.status = status
    item.closed_at = seconds(event)
    item.close_event_id = event.event_id
    item.triggers.append(event.event_id)
    if failure:
        item.failure = failure


def _on_started(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_started_event_attributes
    reader.began_at = seconds(event)
    item = _item(Kind.START, "start", event, attrs.workflow_type.name, Status.COMPLETED)
    item.id = "start"
    item.triggers.append(event.event_id)
    item.facts += [("task queue", attrs.task_queue.name)]
    if attrs.parent_workflow_execution.workflow_id:
        parent = attrs.parent_workflow_execution
        item.link = RunRef(
            attrs.parent_workflow_namespace or reader.namespace, parent.workflow_id, parent.run_id
        )
        item.facts.append(("parent", parent.workflow_id))
    reader.add(item)


def _on_wft_started(reader: _Reader, event: HistoryEvent) -> None:
    reader.last_started_wft = event.event_id


def _on_wft_completed(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_task_completed_event_attributes
    reader.workflow_tasks.append(WorkflowTask(attrs.started_event_id, event.event_id))


def _on_activity_scheduled(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.activity_task_scheduled_event_attributes
    item = _item(Kind.ACTIVITY, "activity", event, attrs.activity_type.name, Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.facts += [("activity ID", attrs.activity_id), ("task queue", attrs.task_queue.name)]
    reader.add(item)


def _on_activity_started(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.activity_task_started_event_attributes
    item = reader.by_event.get(attrs.scheduled_event_id)
    if item is None:
        return
    item.status = Status.RUNNING
    item.started_at = seconds(event)
    item.attempts = attrs.attempt
    if attrs.HasField("last_failure"):
        item.failure = attrs.last_failure.message


def _activity_closer(status: Status) -> _Handler:
    def on_close(reader: _Reader, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        item = reader.by_event.get(attrs.scheduled_event_id)
        _close(item, event, status, _failure(attrs))
        retry_state = getattr(attrs, "retry_state", 0)
        if item is not None and retry_state:
            item.facts.append(("retry state", _retry_state(retry_state)))

    return on_close


def _failure(attrs: Any) -> str | None:
    """The message of the event's failure, if its kind of event carries one and it does."""
    if "failure" in attrs.DESCRIPTOR.fields_by_name and attrs.HasField("failure"):
        return str(attrs.failure.message)
    return None


def _retry_state(value: int) -> str:
    known = {int(number): name for name, number in RetryState.items()}
    name = known.get(value, str(value))
    return name.removeprefix("RETRY_STATE_").replace("_", " ").lower()


def _on_timer_started(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.timer_started_event_attributes
    item = _item(Kind.TIMER, "timer", event, f"timer {attrs.timer_id}", Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.started_at = item.first_at
    item.facts.append(("duration", _duration(attrs.start_to_fire_timeout.ToTimedelta().total_seconds())))
    reader.add(item)


def _duration(total: float) -> str:
    if total < 1:
        return f"{total * 1000:g} ms"
    if total < 120:
        return f"{total:g} s"
    return f"{total / 60:g} min"


def _timer_closer(status: Status) -> _Handler:
    def on_close(reader: _Reader, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        _close(reader.by_event.get(attrs.started_event_id), event, status)

    return on_close


def _on_child_initiated(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.start_child_workflow_execution_initiated_event_attributes
    item = _item(Kind.CHILD, "child", event, attrs.workflow_type.name, Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.facts += [("workflow ID", attrs.workflow_id), ("task queue", attrs.task_queue.name)]
    item.link = RunRef(attrs.namespace or reader.namespace, attrs.workflow_id, "")
    reader.add(item)


def _on_child_started(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.child_workflow_execution_started_event_attributes
    item = reader.by_event.get(attrs.initiated_event_id)
    if item is None:
        return
    item.status = Status.RUNNING
    item.started_at = seconds(event)
    item.triggers.append(event.event_id)
    execution = attrs.workflow_execution
    namespace = attrs.namespace or (item.link.namespace if item.link else reader.namespace)
    item.link = RunRef(namespace, execution.workflow_id, execution.run_id)
    item.facts.append(("run ID", execution.run_id))


def _child_closer(status: Status) -> _Handler:
    def on_close(reader: _Reader, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        failure = _failure(attrs)
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
            cause = StartChildWorkflowExecutionFailedCause.Name(attrs.cause)
            failure = (
                "not started: " + cause.removeprefix("START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_").lower()
            )
        _close(reader.by_event.get(attrs.initiated_event_id), event, status, failure)

    return on_close


def _on_signaled(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_signaled_event_attributes
    item = _item(Kind.SIGNAL, "signal", event, attrs.signal_name, Status.RECEIVED)
    item.triggers.append(event.event_id)
    if attrs.identity:
        item.facts.append(("sent by", attrs.identity))
    reader.add(item)


def _on_cancel_requested(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_cancel_requested_event_attributes
    item = _item(Kind.CANCEL_REQUEST, "cancel", event, "cancel requested", Status.RECEIVED)
    item.triggers.append(event.event_id)
    if attrs.cause:
        item.facts.append(("reason", attrs.cause))
    reader.add(item)


def _update(reader: _Reader, update_id: str, name: str, event: HistoryEvent, status: Status) -> Item:
    key = f"update-{update_id}"
    item = reader.items.get(key)
    if item is None:
        item = _item(Kind.UPDATE, "update", event, name, status)
        item.id = key
        item.facts.append(("update ID", update_id))
        reader.add(item)
    item.status = status
    return item


def _on_update_admitted(reader: _Reader, event: HistoryEvent) -> None:
    request = event.workflow_execution_update_admitted_event_attributes.request
    item = _update(reader, request.meta.update_id, request.input.name, event, Status.ADMITTED)
    item.triggers.append(event.event_id)


def _on_update_accepted(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_accepted_event_attributes
    request = attrs.accepted_request
    admitted = f"update-{request.meta.update_id}" in reader.items
    item = _update(reader, request.meta.update_id, request.input.name, event, Status.ACCEPTED)
    item.started_at = seconds(event)
    if not admitted:
        # Accepted by the workflow task that carried the request: the one just completed.
        item.triggers.append(attrs.accepted_request_sequencing_event_id or reader.last_started_wft)


def _on_update_completed(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_completed_event_attributes
    item = reader.items.get(f"update-{attrs.meta.update_id}")
    if attrs.outcome.HasField("failure"):
        _close(item, event, Status.FAILED, attrs.outcome.failure.message)
    else:
        _close(item, event, Status.COMPLETED)


def _on_update_rejected(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_rejected_event_attributes
    request = attrs.rejected_request
    item = _update(reader, request.meta.update_id, request.input.name, event, Status.REJECTED)
    if not item.triggers:
        item.triggers.append(attrs.rejected_request_sequencing_event_id or reader.last_started_wft)
    _close(item, event, Status.REJECTED, attrs.failure.message or None)


def _on_marker(reader: _Reader, event: HistoryEvent) -> None:
    attrs = event.marker_recorded_event_attributes
    item = _item(Kind.MARKER, "marker", event, attrs.marker_name, Status.RECORDED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    if attrs.HasField("failure"):
        item.status, item.failure = Status.FAILED, attrs.failure.message
    reader.add(item)


def _workflow_closer(status: Status) -> _Handler:
    def on_close(reader: _Reader, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        item = _item(Kind.CLOSE, "close", event, status.value, status)
        item.id = "close"
        item.scheduled_by = getattr(attrs, "workflow_task_completed_event_id", 0) or None
        item.closed_at, item.close_event_id = item.first_at, event.event_id
        item.failure = _failure(attrs)
        if getattr(attrs, "reason", ""):
            item.failure = attrs.reason
        next_run = getattr(attrs, "new_execution_run_id", "")
        if next_run:
            # The same workflow ID, which its own history does not hold: "" says "this workflow".
            item.link = RunRef(reader.namespace, "", next_run)
            item.facts.append(("next run", next_run))
        reader.add(item)

    return on_close


E = EventType
_HANDLERS: dict[int, _Handler] = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: _on_started,
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED: _on_wft_started,
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: _on_wft_completed,
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: _on_activity_scheduled,
    E.EVENT_TYPE_ACTIVITY_TASK_STARTED: _on_activity_started,
    E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: _activity_closer(Status.COMPLETED),
    E.EVENT_TYPE_ACTIVITY_TASK_FAILED: _activity_closer(Status.FAILED),
    E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: _activity_closer(Status.TIMED_OUT),
    E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: _activity_closer(Status.CANCELED),
    E.EVENT_TYPE_TIMER_STARTED: _on_timer_started,
    E.EVENT_TYPE_TIMER_FIRED: _timer_closer(Status.FIRED),
    E.EVENT_TYPE_TIMER_CANCELED: _timer_closer(Status.CANCELED),
    E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: _on_child_initiated,
    E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: _child_closer(Status.FAILED),
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: _on_child_started,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: _child_closer(Status.COMPLETED),
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: _child_closer(Status.FAILED),
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: _child_closer(Status.CANCELED),
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: _child_closer(Status.TIMED_OUT),
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: _child_closer(Status.TERMINATED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: _on_signaled,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _on_cancel_requested,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED: _on_update_admitted,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: _on_update_accepted,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: _on_update_completed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED: _on_update_rejected,
    E.EVENT_TYPE_MARKER_RECORDED: _on_marker,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: _workflow_closer(Status.COMPLETED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: _workflow_closer(Status.FAILED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: _workflow_closer(Status.TIMED_OUT),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: _workflow_closer(Status.CANCELED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: _workflow_closer(Status.TERMINATED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: _workflow_closer(Status.CONTINUED_AS_NEW),
}
