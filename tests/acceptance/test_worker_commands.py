"""The server pushes cancellations to the SDK worker over its control queue.

An activity that never heartbeats learns that its attempt is over (timed
out, cancelled by its workflow, or left behind by a closed workflow) from a
command the server sends to its worker process. Without the push the SDK
only notices a timed-out attempt on its own timer, five seconds after the
deadline, and reports it as timed out rather than as a cancel request: the
cancellation details tell the two apart without any timing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    ListWorkersRequest,
    PollNexusTaskQueueRequest,
    RespondNexusTaskCompletedRequest,
    RespondNexusTaskFailedRequest,
)
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import TimeoutError, TimeoutType
from temporalio.runtime import Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode

from cadenza.matching.control import ControlTaskToken
from tests.acceptance import workflows_worker_commands as wc
from tests.helpers import Registered, eventually, worker_for

REGISTERED = Registered(wc.ALL_WORKFLOWS, [wc.wait_without_heartbeat])


async def cancellation_of(workflow_id: str) -> activity.ActivityCancellationDetails:
    await eventually(lambda: workflow_id in wc.CANCELLED)
    details = wc.CANCELLED[workflow_id]
    assert details is not None
    return details


async def test_timed_out_activity_is_cancelled_on_its_worker(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(wc.ActivityTimesOut.run, id=workflow_id, task_queue=task_queue)
        timeout = raised.value.cause.__cause__
        assert isinstance(timeout, TimeoutError)
        assert timeout.type == TimeoutType.START_TO_CLOSE
        details = await cancellation_of(workflow_id)
    # Told by the server; the SDK's own late timer would say timed_out and not_found.
    assert details.cancel_requested
    assert not details.timed_out


async def test_cancel_requested_by_workflow_reaches_activity_without_heartbeat(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(wc.CancelsActivity.run, id=workflow_id, task_queue=task_queue)
        await eventually(lambda: workflow_id in wc.STARTED)
        await handle.signal(wc.CancelsActivity.go)
        assert await asyncio.wait_for(handle.result(), 30) == "CancelledError"
    assert (await cancellation_of(workflow_id)).cancel_requested


async def test_activity_left_running_by_closed_workflow_is_cancelled(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with worker_for(client, task_queue, REGISTERED):
        handle = await client.start_workflow(
            wc.LeavesActivityRunning.run, id=workflow_id, task_queue=task_queue
        )
        await eventually(lambda: workflow_id in wc.STARTED)
        await handle.signal(wc.LeavesActivityRunning.go)
        assert await handle.result() == "done"
        details = await cancellation_of(workflow_id)
    assert details.cancel_requested


async def test_worker_heartbeats_are_listed(client: Client, task_queue: str) -> None:
    runtime = Runtime(telemetry=TelemetryConfig(), worker_heartbeat_interval=timedelta(seconds=1))
    config = client.config()
    beating = await Client.connect(
        client.service_client.config.target_host, namespace=config["namespace"], runtime=runtime
    )
    service = client.workflow_service
    async with worker_for(beating, task_queue, REGISTERED):

        async def listed() -> None:
            response = await service.list_workers(ListWorkersRequest(namespace="default"))
            assert task_queue in [w.task_queue for w in response.workers]

        await eventually(listed, interval=0.2)
    with pytest.raises(RPCError) as raised:
        await service.list_workers(ListWorkersRequest(namespace="default", query="TaskQueue='x'"))
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT


async def test_nexus_task_rpcs_reject_what_they_do_not_know(client: Client) -> None:
    service = client.workflow_service
    namespace = await service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
    unknown = ControlTaskToken(namespace.namespace_info.id, "some-control-queue", "no-such-task")

    with pytest.raises(RPCError) as raised:
        await service.respond_nexus_task_completed(
            RespondNexusTaskCompletedRequest(namespace="default", task_token=b"not a token")
        )
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    with pytest.raises(RPCError) as raised:
        await service.respond_nexus_task_completed(
            RespondNexusTaskCompletedRequest(namespace="default", task_token=unknown.encode())
        )
    assert raised.value.status == RPCStatusCode.NOT_FOUND
    with pytest.raises(RPCError) as raised:
        await service.respond_nexus_task_failed(
            RespondNexusTaskFailedRequest(namespace="default", task_token=unknown.encode())
        )
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert "error or failure" in raised.value.message


async def test_poll_of_an_ordinary_nexus_queue_returns_empty(client: Client, task_queue: str) -> None:
    request = PollNexusTaskQueueRequest(
        namespace="default",
        identity="test",
        task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
    )
    response = await client.workflow_service.poll_nexus_task_queue(request, timeout=timedelta(seconds=3))
    assert not response.task_token
