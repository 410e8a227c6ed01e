"""What a worker receives for a task it was handed: the poll responses built from a run.

Built in three places (a poll, the eager first task of a start, eager activities
in a completed workflow task's response), so they live apart from any of them.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.workflowservice.v1 import (
    PollActivityTaskQueueResponse,
    PollWorkflowTaskQueueResponse,
)

from cadenza.history.machine import activities, updates, workflow_tasks
from cadenza.history.machine import events as ev
from cadenza.history.machine.state import Activity, decode_blob
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service.cache import Entry, ExecutionCache


async def workflow_task_response(
    cache: ExecutionCache, entry: Entry, *, sticky: bool
) -> PollWorkflowTaskQueueResponse:
    """The run's started workflow task; a sticky worker gets only the events it has not seen."""
    s = entry.state
    wft = s.workflow_task
    assert wft is not None
    history = await cache.history(entry)
    first = s.previous_started_event_id + 1 if sticky else 1
    token = TaskToken(
        s.namespace_id,
        s.workflow_id,
        s.run_id,
        wft.scheduled_event_id,
        wft.attempt,
        wft.started_event_id,
        start_request_id=wft.request_id,
    )
    response = PollWorkflowTaskQueueResponse(
        task_token=token.encode(),
        workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
        workflow_type=WorkflowType(name=s.workflow_type),
        previous_started_event_id=s.previous_started_event_id,
        started_event_id=wft.started_event_id,
        attempt=wft.attempt,
        workflow_execution_task_queue=ev.task_queue(s.task_queue),
    )
    response.history.events.extend(history[first - 1 :])
    response.history.events.extend(workflow_tasks.transient_events(s))
    response.messages.extend(updates.messages(s, wft.scheduled_event_id))
    response.scheduled_time.CopyFrom(ev.timestamp(wft.scheduled_time))
    response.started_time.CopyFrom(ev.timestamp(wft.started_time))
    return response


async def activity_task_response(
    cache: ExecutionCache, entry: Entry, activity: Activity
) -> PollActivityTaskQueueResponse:
    """A started activity attempt, with what its scheduled event asked for."""
    s = entry.state
    scheduled = (await cache.history(entry))[activity.scheduled_event_id - 1]
    attrs = scheduled.activity_task_scheduled_event_attributes
    response = PollActivityTaskQueueResponse(
        task_token=activities.task_token(s, activity).encode(),
        workflow_namespace=s.namespace,
        workflow_type=WorkflowType(name=s.workflow_type),
        workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
        activity_type=attrs.activity_type,
        activity_id=activity.activity_id,
        attempt=activity.attempt,
        retry_policy=attrs.retry_policy,
    )
    for name in ("header", "input", "priority"):  # only those the scheduled event has
        if attrs.HasField(name):
            getattr(response, name).CopyFrom(getattr(attrs, name))
    if activity.heartbeat_details:
        response.heartbeat_details.CopyFrom(Payloads.FromString(decode_blob(activity.heartbeat_details)))
    response.scheduled_time.CopyFrom(ev.timestamp(activity.scheduled_time))
    response.current_attempt_scheduled_time.CopyFrom(ev.timestamp(activity.attempt_scheduled_time))
    response.started_time.CopyFrom(ev.timestamp(activity.started_time))
    response.schedule_to_close_timeout.CopyFrom(attrs.schedule_to_close_timeout)
    response.start_to_close_timeout.CopyFrom(attrs.start_to_close_timeout)
    response.heartbeat_timeout.CopyFrom(attrs.heartbeat_timeout)
    return response
