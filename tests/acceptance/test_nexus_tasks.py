"""Nexus tasks as a handler worker sees them: the start request a poll hands out, and answers
refused when they are malformed, late or given twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.nexus.v1 import Response, StartOperationResponse
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    PollNexusTaskQueueRequest,
    PollNexusTaskQueueResponse,
    RespondNexusTaskCompletedRequest,
    RespondNexusTaskFailedRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows_nexus as wn
from tests.acceptance.test_nexus_operations import endpoint_for, handler_namespace


async def poll(client: Client, namespace: str, task_queue: str) -> PollNexusTaskQueueResponse:
    request = PollNexusTaskQueueRequest(
        namespace=namespace, task_queue=TaskQueue(name=task_queue), identity="raw"
    )
    for _ in range(5):
        response = await client.workflow_service.poll_nexus_task_queue(request)
        if response.task_token:
            return response
    raise AssertionError("no Nexus task came")


async def test_a_polled_start_request_carries_what_the_handler_needs(client: Client) -> None:
    namespace = await handler_namespace(client)
    queue = f"raw-{uuid.uuid4().hex[:8]}"
    endpoint = await endpoint_for(client, namespace, queue)
    async with Worker(client, task_queue=f"callers-{queue}", workflows=wn.CALLERS):
        handle = await client.start_workflow(
            wn.CallGreeting.run,
            args=[endpoint, "hello", "raw"],
            id=str(uuid.uuid4()),
            task_queue=f"callers-{queue}",
        )
        task = await poll(client, namespace, queue)
        start = task.request.start_operation
        assert (task.request.endpoint, start.service, start.operation) == (endpoint, "Greeting", "hello")
        assert start.callback == "temporal://system" and start.callback_header["temporal-callback-token"]
        assert task.request.header["nexus-request-id"] == start.request_id
        (link,) = start.links
        assert "eventType=NexusOperationScheduled" in link.url and handle.id in link.url

        answer = Response(
            start_operation=StartOperationResponse(
                sync_success=StartOperationResponse.Sync(payload=start.payload)
            )
        )
        completed = RespondNexusTaskCompletedRequest(
            namespace=namespace, task_token=task.task_token, response=answer
        )
        await client.workflow_service.respond_nexus_task_completed(completed)
        with pytest.raises(RPCError) as twice:
            await client.workflow_service.respond_nexus_task_completed(completed)
        assert twice.value.status == RPCStatusCode.NOT_FOUND

        assert await handle.result() == "raw"  # the payload it was sent, answered as the result
        history = await handle.fetch_history()
        (scheduled,) = [
            e for e in history.events if e.event_type == EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED
        ]
        assert scheduled.nexus_operation_scheduled_event_attributes.request_id == start.request_id


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (b"", RPCStatusCode.INVALID_ARGUMENT),
        (b"not json", RPCStatusCode.INVALID_ARGUMENT),
        (b'{"k":"nexus-operation"}', RPCStatusCode.INVALID_ARGUMENT),
    ],
)
async def test_a_malformed_task_token_is_refused(client: Client, token: bytes, code: RPCStatusCode) -> None:
    request = RespondNexusTaskCompletedRequest(namespace="default", task_token=token)
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.respond_nexus_task_completed(request)
    assert refused.value.status == code


async def test_an_answer_to_an_unknown_task_is_not_found(client: Client) -> None:
    token = b'{"k":"nexus-operation","namespace_id":"x","task_queue":"q","task_id":"gone"}'
    failed = RespondNexusTaskFailedRequest(namespace="default", task_token=token)
    with pytest.raises(RPCError) as bare:
        await client.workflow_service.respond_nexus_task_failed(failed)
    assert bare.value.status == RPCStatusCode.INVALID_ARGUMENT  # neither error nor failure
    completed = RespondNexusTaskCompletedRequest(namespace="default", task_token=token)
    with pytest.raises(RPCError) as unknown:
        await client.workflow_service.respond_nexus_task_completed(completed)
    assert unknown.value.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT)


async def test_a_nexus_queue_shows_its_pollers(client: Client) -> None:
    queue = f"pollers-{uuid.uuid4().hex[:8]}"
    poll_once = PollNexusTaskQueueRequest(
        namespace="default", task_queue=TaskQueue(name=queue), identity="handler@host"
    )
    empty = await client.workflow_service.poll_nexus_task_queue(poll_once, timeout=timedelta(seconds=1))
    assert not empty.task_token  # nothing to hand out before its deadline
    describe = DescribeTaskQueueRequest(
        namespace="default",
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_NEXUS,
    )
    described = await client.workflow_service.describe_task_queue(describe)
    assert [p.identity for p in described.pollers] == ["handler@host"]
    assert described.pollers[0].rate_per_second == 100_000  # as the real server shows a Nexus poller
