"""Operations on a whole run from outside it: cancel requests, termination, run timeouts."""

from __future__ import annotations

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import (
    EventType,
    WorkflowExecutionStatus,
)

from cadenza.history.machine import workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.closing import close_execution


def request_cancel(change: Change, reason: str, identity: str) -> None:
    """Record the request once; the workflow decides what cancelling means."""
    s = change.state
    if s.cancel_requested:
        return
    s.cancel_requested = True
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    attrs = event.workflow_execution_cancel_requested_event_attributes
    attrs.cause = reason
    attrs.identity = identity
    workflow_tasks.ensure_scheduled(change)


def terminate(change: Change, reason: str, details: Payloads | None, identity: str) -> None:
    """Close the run at once, whatever it is doing."""
    end_running_workflow_task(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
    attrs = event.workflow_execution_terminated_event_attributes
    attrs.reason = reason
    if details is not None:
        attrs.details.CopyFrom(details)
    attrs.identity = identity
    close_execution(change, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED)


def end_running_workflow_task(change: Change) -> None:
    """A running workflow task cannot complete after the run closes: fail it first."""
    wft = change.state.workflow_task
    if wft is not None and wft.started_event_id:
        workflow_tasks.fail_for_close(change)
    change.flush_buffered()
