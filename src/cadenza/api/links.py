"""Links to history events, as Temporal attaches them to start, signal and update answers.

A caller (a Nexus operation, the UI) follows a link to the event its request
produced: the run's started event, or the event recorded for a request ID.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Link
from temporalio.api.enums.v1 import EventType

STARTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
UPDATE_ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
FIRST_EVENT_ID = 1


def started_event(namespace: str, workflow_id: str, run_id: str) -> Link:
    """A link to the run's WorkflowExecutionStarted event (always event 1)."""
    link = Link()
    target = link.workflow_event
    target.namespace, target.workflow_id, target.run_id = namespace, workflow_id, run_id
    target.event_ref.event_id = FIRST_EVENT_ID
    target.event_ref.event_type = STARTED
    return link


def request_event(namespace: str, workflow_id: str, run_id: str, request_id: str, event_type: int) -> Link:
    """A link to the event recorded for ``request_id``, named by the request, not its event ID."""
    link = Link()
    target = link.workflow_event
    target.namespace, target.workflow_id, target.run_id = namespace, workflow_id, run_id
    target.request_id_ref.request_id = request_id
    target.request_id_ref.event_type = event_type  # type: ignore[assignment]
    return link


def rejected_update(namespace: str, workflow_id: str, run_id: str) -> Link:
    """A rejected update leaves no event: Temporal links to the workflow itself."""
    link = Link()
    target = link.workflow
    target.namespace, target.workflow_id, target.run_id = namespace, workflow_id, run_id
    target.reason = "Update rejected"
    return link
