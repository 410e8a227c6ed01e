"""Reading the events of the run itself and of what reached it from outside: its start, its
workflow tasks, signals, cancel requests, updates and its close."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent

from cadenza.web.ui_graph.items import (
    Handler,
    Item,
    Kind,
    Ledger,
    RunRef,
    Status,
    WorkflowTask,
    close_item,
    failure_of,
    new_item,
    seconds,
)

E = EventType


def _on_started(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_started_event_attributes
    ledger.began_at = seconds(event)
    item = new_item(Kind.START, "start", event, attrs.workflow_type.name, Status.COMPLETED)
    item.id = "start"
    item.triggers.append(event.event_id)
    item.facts += [("task queue", attrs.task_queue.name)]
    if attrs.parent_workflow_execution.workflow_id:
        parent = attrs.parent_workflow_execution
        item.link = RunRef(
            attrs.parent_workflow_namespace or ledger.namespace, parent.workflow_id, parent.run_id
        )
        item.facts.append(("parent", parent.workflow_id))
    ledger.add(item)


def _on_wft_started(ledger: Ledger, event: HistoryEvent) -> None:
    ledger.last_started_wft = event.event_id


def _on_wft_completed(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_task_completed_event_attributes
    ledger.workflow_tasks.append(WorkflowTask(attrs.started_event_id, event.event_id))


def _on_task_failed(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_task_failed_event_attributes
    cause = WorkflowTaskFailedCause.Name(attrs.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
    item = new_item(Kind.TASK_FAILURE, "task-failure", event, cause.replace("_", " ").lower(), Status.FAILED)
    item.failure = failure_of(attrs)
    ledger.add(item)


def _on_signaled(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_signaled_event_attributes
    item = new_item(Kind.SIGNAL, "signal", event, attrs.signal_name, Status.RECEIVED)
    item.triggers.append(event.event_id)
    if attrs.identity:
        item.facts.append(("sent by", attrs.identity))
    ledger.add(item)


def _on_cancel_requested(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_cancel_requested_event_attributes
    item = new_item(Kind.CANCEL_REQUEST, "cancel", event, "cancel requested", Status.RECEIVED)
    item.triggers.append(event.event_id)
    if attrs.cause:
        item.facts.append(("reason", attrs.cause))
    ledger.add(item)


def _update(ledger: Ledger, update_id: str, name: str, event: HistoryEvent, status: Status) -> Item:
    key = f"update-{update_id}"
    item = ledger.items.get(key)
    if item is None:
        item = new_item(Kind.UPDATE, "update", event, name, status)
        item.id = key
        item.facts.append(("update ID", update_id))
        ledger.add(item)
    item.status = status
    return item


def _on_update_admitted(ledger: Ledger, event: HistoryEvent) -> None:
    request = event.workflow_execution_update_admitted_event_attributes.request
    item = _update(ledger, request.meta.update_id, request.input.name, event, Status.ADMITTED)
    item.triggers.append(event.event_id)


def _on_update_accepted(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_accepted_event_attributes
    request = attrs.accepted_request
    admitted = f"update-{request.meta.update_id}" in ledger.items
    item = _update(ledger, request.meta.update_id, request.input.name, event, Status.ACCEPTED)
    item.started_at = seconds(event)
    if not admitted:
        # Accepted by the workflow task that carried the request: the one just completed.
        item.triggers.append(attrs.accepted_request_sequencing_event_id or ledger.last_started_wft)


def _on_update_completed(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_completed_event_attributes
    item = ledger.items.get(f"update-{attrs.meta.update_id}")
    if attrs.outcome.HasField("failure"):
        close_item(item, event, Status.FAILED, attrs.outcome.failure.message)
    else:
        close_item(item, event, Status.COMPLETED)


def _on_update_rejected(ledger: Ledger, event: HistoryEvent) -> None:
    attrs = event.workflow_execution_update_rejected_event_attributes
    request = attrs.rejected_request
    item = _update(ledger, request.meta.update_id, request.input.name, event, Status.REJECTED)
    if not item.triggers:
        item.triggers.append(attrs.rejected_request_sequencing_event_id or ledger.last_started_wft)
    close_item(item, event, Status.REJECTED, attrs.failure.message or None)


def _workflow_closer(status: Status) -> Handler:
    def on_close(ledger: Ledger, event: HistoryEvent) -> None:
        attrs = getattr(event, event.WhichOneof("attributes") or "")
        item = new_item(Kind.CLOSE, "close", event, status.value, status)
        item.id = "close"
        item.scheduled_by = getattr(attrs, "workflow_task_completed_event_id", 0) or None
        item.closed_at, item.close_event_id = item.first_at, event.event_id
        item.failure = failure_of(attrs)
        if getattr(attrs, "reason", ""):
            item.failure = attrs.reason
        next_run = getattr(attrs, "new_execution_run_id", "")
        if next_run:
            # The same workflow ID, which its own history does not hold: "" says "this workflow".
            item.link = RunRef(ledger.namespace, "", next_run)
            item.facts.append(("next run", next_run))
        ledger.add(item)

    return on_close


RUN_EVENTS: dict[int, Handler] = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: _on_started,
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED: _on_wft_started,
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: _on_wft_completed,
    E.EVENT_TYPE_WORKFLOW_TASK_FAILED: _on_task_failed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: _on_signaled,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _on_cancel_requested,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED: _on_update_admitted,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: _on_update_accepted,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: _on_update_completed,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED: _on_update_rejected,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: _workflow_closer(Status.COMPLETED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: _workflow_closer(Status.FAILED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: _workflow_closer(Status.TIMED_OUT),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: _workflow_closer(Status.CANCELED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: _workflow_closer(Status.TERMINATED),
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: _workflow_closer(Status.CONTINUED_AS_NEW),
}
