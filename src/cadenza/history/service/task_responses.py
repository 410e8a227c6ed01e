"""What a worker receives for a task it was handed: the poll responses built from a run.

Built in three places (a poll, the eager first task of a start, eager activities
in a completed workflow task's response), so they live apart from any of them.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.history.v1 import History
from temporalio.api.workflowservice.v1 import (
    PollActivityTaskQueueResponse,
    PollWorkflowTaskQueueResponse,
)

from cadenza.history.machine import activities, updates, workflow_tasks
from cadenza.history.machine import events as ev
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import Activity, MutableState
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service import wire
from cadenza.history.service.cache import Entry, ExecutionCache

_HISTORY_FIELD = PollWorkflowTaskQueueResponse.DESCRIPTOR.fields_by_name["history"].number


async def workflow_task_response(
    cache: ExecutionCache, entry: Entry, *, sticky: bool
) -> PollWorkflowTaskQueueResponse:
    """The run's started workflow task; a sticky worker gets only the events it has not seen."""
    history = await cache.history(entry)
    response = _without_history(entry.state)
    response.history.events.extend(history[_first_event(entry.state, sticky) - 1 :])
    response.history.events.extend(workflow_tasks.transient_events(entry.state))
    return response


async def workflow_task_response_bytes(cache: ExecutionCache, entry: Entry, *, sticky: bool) -> bytes:
    """``workflow_task_response`` serialized, its stored events written as stored."""
    history = await cache.history(entry)
    events = history.entries(_first_event(entry.state, sticky) - 1)
    transient = workflow_tasks.transient_events(entry.state)
    if transient:
        events.append(History(events=transient).SerializeToString())
    return wire.with_field(_without_history(entry.state).SerializeToString(), _HISTORY_FIELD, events)


def _first_event(s: MutableState, sticky: bool) -> int:
    return s.previous_started_event_id + 1 if sticky else 1


def _without_history(s: MutableState) -> PollWorkflowTaskQueueResponse:
    wft = s.workflow_task
    assert wft is not None
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
