"""Starting workflows, and bad requests: each gets Temporal's error and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.common.v1 import WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import EventType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetWorkflowExecutionHistoryRequest,
    PollWorkflowTaskQueueRequest,
    RespondActivityTaskCompletedRequest,
    RespondWorkflowTaskCompletedRequest,
    StartWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from tests.acceptance import workflows as w


async def history_length(client: Client, workflow_id: str) -> int:
    return len((await client.get_workflow_handle(workflow_id).fetch_history()).events)


async def test_starting_a_running_workflow_id_again_is_refused(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    first: WorkflowHandle[w.WaitsForever, None] = await client.start_workflow(
        w.WaitsForever.run, id=workflow_id, task_queue=task_queue
    )
    with pytest.raises(WorkflowAlreadyStartedError) as raised:
        await client.start_workflow(w.WaitsForever.run, id=workflow_id, task_queue=task_queue)
    assert raised.value.run_id == first.first_execution_run_id
    assert await history_length(client, workflow_id) == 2


async def test_repeated_request_id_returns_the_same_run(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    request = StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="WaitsForever"),
        task_queue=TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
    )
    first = await client.workflow_service.start_workflow_execution(request)
    again = await client.workflow_service.start_workflow_execution(request)
    assert first.run_id == again.run_id
    assert await history_length(client, workflow_id) == 2


async def test_unknown_namespace_is_not_found(client: Client, task_queue: str) -> None:
    other = await Client.connect(client.service_client.config.target_host, namespace="no-such-ns")
    with pytest.raises(RPCError) as raised:
        await other.start_workflow(w.WaitsForever.run, id="x", task_queue=task_queue)
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    assert "Namespace no-such-ns is not found." in raised.value.message
    with pytest.raises(RPCError) as described:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="no-such-ns"))
    assert described.value.status == RPCStatusCode.NOT_FOUND


async def test_empty_workflow_id_is_invalid(client: Client, task_queue: str) -> None:
    with pytest.raises(RPCError) as raised:
        await client.workflow_service.start_workflow_execution(
            StartWorkflowExecutionRequest(
                namespace="default",
                workflow_id="",
                workflow_type=WorkflowType(name="X"),
                task_queue=TaskQueue(name=task_queue),
                request_id=str(uuid.uuid4()),
            )
        )
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert raised.value.message == "WorkflowId is not set on request."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("workflow_type", WorkflowType(name=""), "WorkflowType is not set on request."),
        ("task_queue", TaskQueue(name=""), "missing task queue name"),
    ],
)
async def test_other_malformed_starts_are_invalid(
    client: Client, workflow_id: str, field: str, value: object, message: str
) -> None:
    request = StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="X"),
        task_queue=TaskQueue(name="q"),
        request_id=str(uuid.uuid4()),
    )
    getattr(request, field).CopyFrom(value)
    with pytest.raises(RPCError) as raised:
        await client.workflow_service.start_workflow_execution(request)
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert raised.value.message == message
    with pytest.raises(RPCError) as missing:
        await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace="default", execution=WorkflowExecution(workflow_id=workflow_id)
            )
        )
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_garbage_task_token_is_invalid(client: Client) -> None:
    with pytest.raises(RPCError) as raised:
        await client.workflow_service.respond_activity_task_completed(
            RespondActivityTaskCompletedRequest(namespace="default", task_token=b"garbage")
        )
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert raised.value.message == "Error deserializing task token."


async def test_stale_workflow_task_token_is_not_found_and_changes_nothing(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await client.start_workflow(w.WaitsForever.run, id=workflow_id, task_queue=task_queue)
    polled = await client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=task_queue), identity="test"
        )
    )
    assert polled.started_event_id == 3
    done = RespondWorkflowTaskCompletedRequest(
        namespace="default", task_token=polled.task_token, identity="test"
    )
    await client.workflow_service.respond_workflow_task_completed(done)
    before = await history_length(client, workflow_id)
    with pytest.raises(RPCError) as raised:
        await client.workflow_service.respond_workflow_task_completed(done)
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    assert raised.value.message == "Workflow task not found."
    assert await history_length(client, workflow_id) == before == 4


async def test_workflow_history_events_in_temporal_order(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    from temporalio.worker import Worker

    async with Worker(client, task_queue=task_queue, workflows=w.ALL_WORKFLOWS, activities=w.ALL_ACTIVITIES):
        await client.execute_workflow(w.OneActivity.run, "x", id=workflow_id, task_queue=task_queue)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert [e.event_type for e in history.events] == [
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    ]
