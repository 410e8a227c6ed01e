"""Reading the events of what a workflow task's commands scheduled: activities, timers, child
workflows, markers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType, RetryState, StartChildWorkflowExecutionFailedCause
from temporalio.api.history.v1 import HistoryEvent

from cadenza.web.ui_graph.items import (
    Handler,
    Kind,
    Ledger,
    RunRef,
    Status,
    close_item,
    failure_of,
    new_item,
    seconds,
)

E = EventType


def _on_activity_scheduled(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.activity_task_scheduled_event_attributes
    item = new_item(Kind.ACTIVITY, "activity", event, attrs.activity_type.name, Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.facts += [("activity ID", attrs.activity_id), ("task queue", attrs.task_queue.name)]
    ledger.add(item)


def _on_activity_started(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.activity_task_started_event_attributes
    item = ledger.by_event.get(attrs.scheduled_event_id)
    if item is None:
        return
    item.status = Status.RUNNING
    item.started_at = seconds(event)
    item.attempts = attrs.attempt
    if attrs.HasField("last_failure"):
        item.failure = attrs.last_failure.message


def _activity_closer(status: Status) -> Handler:
    def on_close(ledger: Ledger, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        item = ledger.by_event.get(attrs.scheduled_event_id)
        close_item(item, event, status, failure_of(attrs))
        retry_state = getattr(attrs, "retry_state", 0)
        if item is not None and retry_state:
            item.facts.append(("retry state", _retry_state(retry_state)))

    return on_close


def _retry_state(value: int) -> str:
    known = {int(number): name for name, number in RetryState.items()}
    name = known.get(value, str(value))
    return name.removeprefix("RETRY_STATE_").replace("_", " ").lower()


def _on_timer_started(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.timer_started_event_attributes
    item = new_item(Kind.TIMER, "timer", event, f"timer {attrs.timer_id}", Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.started_at = item.first_at
    item.facts.append(("duration", _duration(attrs.start_to_fire_timeout.ToTimedelta().total_seconds())))
    ledger.add(item)


def _duration(total: float) -> str:
    if total < 1:
        return f"{total * 1000:g} ms"
    if total < 120:
        return f"{total:g} s"
    return f"{total / 60:g} min"


def _timer_closer(status: Status) -> Handler:
    def on_close(ledger: Ledger, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        close_item(ledger.by_event.get(attrs.started_event_id), event, status)

    return on_close


def _on_child_initiated(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.start_child_workflow_execution_initiated_event_attributes
    item = new_item(Kind.CHILD, "child", event, attrs.workflow_type.name, Status.SCHEDULED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    item.facts += [("workflow ID", attrs.workflow_id), ("task queue", attrs.task_queue.name)]
    item.link = RunRef(attrs.namespace or ledger.namespace, attrs.workflow_id, "")
    ledger.add(item)


def _on_child_started(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.child_workflow_execution_started_event_attributes
    item = ledger.by_event.get(attrs.initiated_event_id)
    if item is None:
        return
    item.status = Status.RUNNING
    item.started_at = seconds(event)
    item.triggers.append(event.event_id)
    execution = attrs.workflow_execution
    namespace = attrs.namespace or (item.link.namespace if item.link else ledger.namespace)
    item.link = RunRef(namespace, execution.workflow_id, execution.run_id)
    item.facts.append(("run ID", execution.run_id))


def _child_closer(status: Status) -> Handler:
    def on_close(ledger: Ledger, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        failure = failure_of(attrs)
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
            cause = StartChildWorkflowExecutionFailedCause.Name(attrs.cause)
            failure = (
                "not started: " + cause.removeprefix("START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_").lower()
            )
        close_item(ledger.by_event.get(attrs.initiated_event_id), event, status, failure)

    return on_close


LOCAL_ACTIVITY_MARKER = "core_local_activity"
PATCH_MARKER = "core_patch"
"""The markers the SDKs built on Temporal's core SDK record for a local activity and a patch."""


def _on_marker(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.marker_recorded_event_attributes
    item = new_item(Kind.MARKER, "marker", event, attrs.marker_name, Status.RECORDED)
    item.scheduled_by = attrs.workflow_task_completed_event_id or None
    if attrs.marker_name == LOCAL_ACTIVITY_MARKER:
        data = _json_detail(attrs.details, "data")
        item.kind, item.status = Kind.LOCAL_ACTIVITY, Status.COMPLETED
        item.label = str(data.get("activity_type") or "local activity")
        item.attempts = int(data.get("attempt") or 0)
        item.facts.append(("activity ID", str(data.get("activity_id", ""))))
    elif attrs.marker_name == PATCH_MARKER:
        item.label = f"patch {_json_detail(attrs.details, 'patch-data').get('id', '')}".strip()
    if attrs.HasField("failure"):
        item.status, item.failure = Status.FAILED, attrs.failure.message
    ledger.add(item)


def _json_detail(details: Mapping[str, Payloads], key: str) -> dict[str, Any]:
    """A marker detail that is one JSON object, or {} when it is anything else."""
    payloads = list(details[key].payloads) if key in details else []
    if len(payloads) != 1 or payloads[0].metadata.get("encoding") != b"json/plain":
        return {}
    try:
        value = orjson.loads(payloads[0].data)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


COMMAND_EVENTS: dict[int, Handler] = {
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
    E.EVENT_TYPE_MARKER_RECORDED: _on_marker,
}
