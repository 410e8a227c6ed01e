"""Builders for history events and the protobuf time values inside them."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType, TaskQueueKind
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.taskqueue.v1 import TaskQueue

# Each event type's attributes field on HistoryEvent, by event type.
ATTRIBUTE_FIELDS: dict[int, str] = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow_execution_started_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: ("workflow_execution_completed_event_attributes"),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "workflow_execution_failed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: "workflow_task_scheduled_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: "workflow_task_started_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_task_completed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow_task_failed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "workflow_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity_task_scheduled_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: "activity_task_started_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: ("activity_task_cancel_requested_event_attributes"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer_started_event_attributes",
    EventType.EVENT_TYPE_TIMER_FIRED: "timer_fired_event_attributes",
    EventType.EVENT_TYPE_TIMER_CANCELED: "timer_canceled_event_attributes",
    EventType.EVENT_TYPE_MARKER_RECORDED: "marker_recorded_event_attributes",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: (
        "upsert_workflow_search_attributes_event_attributes"
    ),
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: ("workflow_properties_modified_event_attributes"),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: (
        "workflow_execution_cancel_requested_event_attributes"
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: ("workflow_execution_canceled_event_attributes"),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: ("workflow_execution_terminated_event_attributes"),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: (
        "workflow_execution_continued_as_new_event_attributes"
    ),
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: (
        "start_child_workflow_execution_initiated_event_attributes"
    ),
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: (
        "start_child_workflow_execution_failed_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: (
        "child_workflow_execution_started_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: (
        "child_workflow_execution_completed_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: (
        "child_workflow_execution_failed_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: (
        "child_workflow_execution_canceled_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: (
        "child_workflow_execution_timed_out_event_attributes"
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: (
        "child_workflow_execution_terminated_event_attributes"
    ),
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: (
        "signal_external_workflow_execution_initiated_event_attributes"
    ),
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: (
        "signal_external_workflow_execution_failed_event_attributes"
    ),
    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: (
        "external_workflow_execution_signaled_event_attributes"
    ),
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: (
        "request_cancel_external_workflow_execution_initiated_event_attributes"
    ),
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: (
        "request_cancel_external_workflow_execution_failed_event_attributes"
    ),
    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: (
        "external_workflow_execution_cancel_requested_event_attributes"
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: (
        "workflow_execution_update_accepted_event_attributes"
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: (
        "workflow_execution_update_completed_event_attributes"
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "workflow_execution_signaled_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: ("workflow_execution_timed_out_event_attributes"),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED: (
        "workflow_execution_options_updated_event_attributes"
    ),
}

_NIL_DATA = (b"", b"null", b"[]")
"""Payload data Temporal takes for no value: none, JSON null, an empty list."""


def drop_nil_values(attrs) -> None:  # type: ignore[no-untyped-def]
    """Leave out the memo and search-attribute entries that hold no value, and a memo or
    search attributes left empty, as Temporal writes started, continued and child events."""
    for name, entries in (("memo", "fields"), ("search_attributes", "indexed_fields")):
        if not attrs.HasField(name):
            continue
        values = getattr(getattr(attrs, name), entries)
        for key in [k for k, payload in values.items() if payload.data in _NIL_DATA]:
            del values[key]
        if not values:
            attrs.ClearField(name)


def new_event(event_type: int, event_time: float) -> HistoryEvent:
    """An event of the given type with its time set; the caller fills its attributes."""
    event = HistoryEvent(event_type=event_type)  # type: ignore[arg-type]
    event.event_time.CopyFrom(timestamp(event_time))
    getattr(event, ATTRIBUTE_FIELDS[event_type]).SetInParent()
    return event


def attributes(event: HistoryEvent):  # type: ignore[no-untyped-def]
    """The attributes message of an event, whatever its type."""
    return getattr(event, ATTRIBUTE_FIELDS[event.event_type])


TIMESTAMP_MIN = -62135596800.0
"""0001-01-01T00:00:00Z, the earliest time a protobuf Timestamp holds."""
TIMESTAMP_MAX = 253402300799.0
"""9999-12-31T23:59:59Z, the latest."""
NANOS_PER_SECOND = 1_000_000_000


def timestamp(seconds: float) -> Timestamp:
    """A protobuf Timestamp; a time past its range is held at the range's end.

    Durations are capped when they come in, so this only guards the replies: a
    stored time protobuf cannot represent would break every listing that shows it.
    """
    whole, nanos = divmod(_nanoseconds(seconds), NANOS_PER_SECOND)  # as Timestamp.FromNanoseconds splits
    return Timestamp(seconds=whole, nanos=nanos)


def set_timestamp(target: Timestamp, seconds: float) -> None:
    """Make ``target`` ``timestamp(seconds)`` in place (quicker than copying one in)."""
    target.seconds, target.nanos = divmod(_nanoseconds(seconds), NANOS_PER_SECOND)


def _nanoseconds(seconds: float) -> int:
    """The nanoseconds since the epoch of ``timestamp(seconds)``."""
    return int(min(max(seconds, TIMESTAMP_MIN), TIMESTAMP_MAX) * 1e9)


def duration(seconds: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def between(start: float, end: float) -> Duration:
    """The time from ``start`` to ``end``, exactly the difference of their timestamps."""
    d = Duration()
    d.FromNanoseconds(_nanoseconds(end) - _nanoseconds(start))
    return d


def seconds(d: Duration) -> float:
    return d.seconds + d.nanos / 1e9


def task_queue(name: str, sticky_of: str = "") -> TaskQueue:
    """A task queue value as events carry it: sticky queues name their normal queue."""
    if sticky_of:
        return TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_STICKY, normal_name=sticky_of)
    return TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL)
