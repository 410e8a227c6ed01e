"""Pausing a whole run, as Temporal does when its namespace allows it.

A paused run is still running: it takes signals, cancel requests, updates' requests and
terminations, and a workflow task or activity attempt already with a worker may finish.
But nothing new is handed to a worker: no workflow task is scheduled (events that would
schedule one just wait in history) and no activity attempt is dispatched. The unpause
schedules a workflow task and dispatches the attempts held meanwhile. Both are history
events the worker may ignore; neither marks the run's activities paused one by one.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause

from cadenza.exceptions import FailedPreconditionError
from cadenza.history.machine import activities, visibility_fields, workflow_tasks
from cadenza.history.machine.change import Change

PAUSED_BEFORE_START = (
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_PAUSE_REQUESTED_BEFORE_TASK_STARTED
)
SERVER_IDENTITY = "history-service"
"""The identity Temporal gives the failure of a task withdrawn by a pause."""


def pause(change: Change, identity: str, reason: str, request_id: str) -> None:
    """Pause the run; a repeated request (same request ID) changes nothing."""
    s = change.state
    if s.paused:
        if request_id and s.pause.get("request_id") == request_id:
            return
        raise FailedPreconditionError("workflow is already paused.")
    _withdraw_scheduled_workflow_task(change)
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_PAUSED)
    event.worker_may_ignore = True
    attrs = event.workflow_execution_paused_event_attributes
    attrs.identity, attrs.reason, attrs.request_id = identity, reason, request_id
    s.paused_time = change.now
    s.pause = {"identity": identity, "reason": reason, "request_id": request_id}
    visibility_fields.record_pause_info(s)
    for activity in s.activities.values():
        if activity.task_id and not activity.started:
            # Held until the unpause; a retry timer still running fires into the hold.
            change.remove_task(activity.task_id)
            change.remove_timer(activity.schedule_to_start_timer_id)
            activity.task_id = activity.schedule_to_start_timer_id = ""
    change.state_changed = True


def unpause(change: Change, identity: str, reason: str, request_id: str) -> None:
    """Let the run go on: a workflow task is scheduled and held attempts dispatched."""
    s = change.state
    if not s.paused:
        raise FailedPreconditionError("workflow is not paused.")
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UNPAUSED)
    event.worker_may_ignore = True
    attrs = event.workflow_execution_unpaused_event_attributes
    attrs.identity, attrs.reason, attrs.request_id = identity, reason, request_id
    s.paused_time = 0.0
    s.pause = {}
    visibility_fields.record_pause_info(s)
    for activity in s.activities.values():
        held = not (activity.started or activity.paused or activity.task_id or activity.retry_timer_id)
        if held:
            due = activity.attempt_scheduled_time - change.now
            if due > 0:
                activities.schedule_retry(change, activity, due)
            else:
                activities.enqueue(change, activity)
    workflow_tasks.ensure_scheduled(change)
    change.state_changed = True


def _withdraw_scheduled_workflow_task(change: Change) -> None:
    """A task no worker has started would be handed out while paused: fail it, as Temporal
    does; a retry (never written) just goes. A started one is left to finish."""
    wft = change.state.workflow_task
    if wft is None or wft.started_event_id:
        return
    if wft.transient:
        workflow_tasks.close(change)
        return
    workflow_tasks.close(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    attrs = event.workflow_task_failed_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.cause = PAUSED_BEFORE_START
    attrs.identity = SERVER_IDENTITY
