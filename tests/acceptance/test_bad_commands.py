"""Workflow-task failures and bad commands: Temporal's errors, transient retries, no damage."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from temporalio.api.command.v1 import (
    Command,
    ScheduleActivityTaskCommandAttributes,
    StartTimerCommandAttributes,
)
from temporalio.api.common.v1 import ActivityType, Payload, Payloads
from temporalio.api.enums.v1 import CommandType, EventType, WorkflowTaskFailedCause
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    PollWorkflowTaskQueueRequest,
    PollWorkflowTaskQueueResponse,
    RecordActivityTaskHeartbeatRequest,
    RespondWorkflowTaskCompletedRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows as w
from tests.acceptance import workflows_time as wt
from tests.acceptance.test_starts_and_errors import history_length


async def poll(client: Client, task_queue: str) -> PollWorkflowTaskQueueResponse:
    return await client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=task_queue), identity="test"
        )
    )


def timer(timer_id: str, seconds: int) -> Command:
    attrs = StartTimerCommandAttributes(timer_id=timer_id)
    attrs.start_to_fire_timeout.FromSeconds(seconds)
    return Command(command_type=CommandType.COMMAND_TYPE_START_TIMER, start_timer_command_attributes=attrs)


async def complete(client: Client, task: PollWorkflowTaskQueueResponse, *commands: Command) -> None:
    await client.workflow_service.respond_workflow_task_completed(
        RespondWorkflowTaskCompletedRequest(
            namespace="default", task_token=task.task_token, identity="test", commands=list(commands)
        )
    )


async def test_reused_timer_id_fails_the_task_and_retries_transiently(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await client.start_workflow(w.WaitsForever.run, id=workflow_id, task_queue=task_queue)
    task = await poll(client, task_queue)
    with pytest.raises(RPCError) as raised:
        await complete(client, task, timer("t1", 60), timer("t1", 60))
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert raised.value.message == (
        "StartTimerDuplicateId: invalid history builder state for "
        "action: add-timer-started-event, TimerID: t1"
    )
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert [e.event_type for e in history.events][-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    failed = history.events[-1].workflow_task_failed_event_attributes
    assert failed.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID
    assert not any(e.HasField("timer_started_event_attributes") for e in history.events)

    retry = await poll(client, task_queue)
    assert retry.attempt == 2
    assert [e.event_id for e in retry.history.events] == [1, 2, 3, 4, 5, 6]
    assert await history_length(client, workflow_id) == 4  # the retry is not written yet
    await complete(client, retry, timer("t1", 60))
    types = [e.event_type for e in (await client.get_workflow_handle(workflow_id).fetch_history()).events]
    assert types[4:] == [
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_TIMER_STARTED,
    ]


async def test_oversize_activity_input_terminates_the_workflow(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(w.WaitsForever.run, id=workflow_id, task_queue=task_queue)
    task = await poll(client, task_queue)
    big = Payloads(payloads=[Payload(data=b"x" * (2 * 1024 * 1024 + 1))])
    attrs = ScheduleActivityTaskCommandAttributes(
        activity_id="1", activity_type=ActivityType(name="echo"), input=big
    )
    attrs.start_to_close_timeout.FromSeconds(10)
    with pytest.raises(RPCError) as raised:
        await complete(
            client,
            task,
            Command(
                command_type=CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
                schedule_activity_task_command_attributes=attrs,
            ),
        )
    assert raised.value.message == (
        "BadScheduleActivityAttributes: ScheduleActivityTaskCommandAttributes.Input exceeds size limit."
    )
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    last = (await handle.fetch_history()).events[-1].workflow_execution_terminated_event_attributes
    assert last.identity == "history-service"


async def test_failing_workflow_task_is_retried_without_growing_history(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=wt.WORKFLOWS, activities=wt.ACTIVITIES):
        # Counted from the start, once the worker runs: the first attempt and its immediate
        # retry fail; the third, a task timeout (1 s) later, succeeds.
        fail_until = time.time() + 0.5
        result = await client.execute_workflow(
            wt.FailsItsFirstTasks.run,
            fail_until,
            id=workflow_id,
            task_queue=task_queue,
            task_timeout=timedelta(seconds=1),
        )
    assert result == "completed after failing tasks"
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert [e.event_type for e in history.events] == [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    ]
    assert history.events[4].workflow_task_scheduled_event_attributes.attempt == 3


async def test_heartbeat_with_unknown_token_is_not_found(client: Client) -> None:
    from cadenza.history.machine.tokens import TaskToken

    ns = (
        await client.workflow_service.describe_namespace(
            __import__("temporalio.api.workflowservice.v1", fromlist=["x"]).DescribeNamespaceRequest(
                namespace="default"
            )
        )
    ).namespace_info.id
    token = TaskToken(ns, "no-such-workflow", "7a1e7f0e-0000-4000-8000-000000000000", 5, 1).encode()
    with pytest.raises(RPCError) as raised:
        await client.workflow_service.record_activity_task_heartbeat(
            RecordActivityTaskHeartbeatRequest(namespace="default", task_token=token)
        )
    assert raised.value.status == RPCStatusCode.NOT_FOUND


async def test_pending_activity_limit_fails_the_task(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    from cadenza.history.machine.activity_scheduling import MAX_PENDING_ACTIVITIES

    await client.start_workflow(w.WaitsForever.run, id=workflow_id, task_queue=task_queue)
    task = await poll(client, task_queue)
    commands = []
    for i in range(MAX_PENDING_ACTIVITIES + 1):
        attrs = ScheduleActivityTaskCommandAttributes(
            activity_id=str(i), activity_type=ActivityType(name="echo")
        )
        attrs.start_to_close_timeout.FromSeconds(10)
        commands.append(
            Command(
                command_type=CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
                schedule_activity_task_command_attributes=attrs,
            )
        )
    with pytest.raises(RPCError) as raised:
        await complete(client, task, *commands)
    assert raised.value.message.startswith("PendingActivitiesLimitExceeded:")
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert not any(e.HasField("activity_task_scheduled_event_attributes") for e in history.events)
    assert history.events[-1].workflow_task_failed_event_attributes.cause == (
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED
    )
