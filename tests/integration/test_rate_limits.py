"""Rate limits and long-poll quotas on a real server, called by the SDK's own service client
with its retries off, so each RESOURCE_EXHAUSTED is seen as the SDK would see it before
backing off.

A rate of 0 calls per second lets one call through (a burst is at least one, as on Temporal)
and never refills, so every test here is exact without depending on time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope
from temporalio.api.errordetails.v1 import ResourceExhaustedFailure
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeWorkflowExecutionRequest,
    PollWorkflowTaskQueueRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import workflows as w
from tests.helpers import Registered, eventually, worker_for
from tests.scrape import Scrape

LIMITED = "limited"
GREETER = Registered([w.OneActivity], [w.shout])


def only_for(namespace: str, value: float) -> str:
    """A dynamic-config value that applies to one namespace alone."""
    return json.dumps([{"value": value, "constraints": {"namespace": namespace}}], separators=(",", ":"))


@pytest.fixture
async def limited_server() -> AsyncIterator[servers.InProcessServer]:
    """A server whose namespace ``limited`` may make one call, then none."""
    async with servers.in_process(dynamic_config={"frontend.namespaceRPS": only_for(LIMITED, 0)}) as server:
        await register(await Client.connect(server.address), LIMITED)
        yield server


async def register(client: Client, namespace: str) -> None:
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )


async def describe(client: Client, namespace: str) -> RPCStatusCode:
    """The status of describing a workflow that does not exist: NOT_FOUND unless refused."""
    request = DescribeWorkflowExecutionRequest(
        namespace=namespace, execution=WorkflowExecution(workflow_id="no-such-workflow")
    )
    try:
        await client.workflow_service.describe_workflow_execution(request, retry=False)
    except RPCError as error:
        return error.status
    raise AssertionError("a workflow that does not exist was described")


async def refusal(call: Awaitable[Any]) -> tuple[str, ResourceExhaustedFailure]:
    """The message and detail of a call refused with RESOURCE_EXHAUSTED."""
    with pytest.raises(RPCError) as raised:
        await call
    assert raised.value.status == RPCStatusCode.RESOURCE_EXHAUSTED, raised.value
    assert raised.value.grpc_status is not None
    (packed,) = raised.value.grpc_status.details
    detail = ResourceExhaustedFailure()
    assert packed.Unpack(detail)
    return raised.value.message, detail


async def test_a_namespace_over_its_rate_is_refused_while_another_runs_workflows(
    limited_server: servers.InProcessServer, workflow_id: str, task_queue: str
) -> None:
    client = await Client.connect(limited_server.address)
    assert await describe(client, LIMITED) == RPCStatusCode.NOT_FOUND
    message, detail = await refusal(
        client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=LIMITED, execution=WorkflowExecution(workflow_id="x")),
            retry=False,
        )
    )
    assert message == "namespace rate limit exceeded"
    assert detail.cause == ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT
    assert detail.scope == ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE

    async with worker_for(client, task_queue, GREETER):
        result = await client.execute_workflow(
            w.OneActivity.run, "there", id=workflow_id, task_queue=task_queue
        )
    assert result == "Hello, there!"
    assert await describe(client, "default") == RPCStatusCode.NOT_FOUND
    assert await describe(client, LIMITED) == RPCStatusCode.RESOURCE_EXHAUSTED


async def test_refusals_are_counted_by_cause_and_scope_as_temporal_counts_them(
    limited_server: servers.InProcessServer,
) -> None:
    client = await Client.connect(limited_server.address)
    assert await describe(client, LIMITED) == RPCStatusCode.NOT_FOUND
    for _ in range(3):
        assert await describe(client, LIMITED) == RPCStatusCode.RESOURCE_EXHAUSTED
    labels = {"operation": "DescribeWorkflowExecution", "namespace": LIMITED}

    def counted() -> None:
        # A refused call's answer may reach the client before its handler has finished unwinding.
        page = Scrape(limited_server.server.metrics.render()[0], bare_counters=True)
        exhausted = page.value(
            "service_errors_resource_exhausted",
            **labels,
            resource_exhausted_cause="RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT",
            resource_exhausted_scope="RESOURCE_EXHAUSTED_SCOPE_NAMESPACE",
        )
        assert exhausted == 3
        assert (
            page.value("service_error_with_type", **labels, error_type="serviceerror_ResourceExhausted") == 3
        )
        assert page.value("service_errors", **labels) == 0  # the namespace's own doing, not the server's

    await eventually(counted)


async def test_over_http_a_refused_call_is_429_with_temporals_error_json(
    limited_server: servers.InProcessServer,
) -> None:
    http = limited_server.server.addresses
    assert http is not None
    url = f"http://{http.http}/api/v1/namespaces/{LIMITED}/workflows/no-such-workflow"
    async with httpx.AsyncClient() as session:
        allowed = await session.get(url)
        refused = await session.get(url)
    assert allowed.status_code == 404
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 8,
        "message": "namespace rate limit exceeded",
        "details": [
            {
                "@type": "type.googleapis.com/temporal.api.errordetails.v1.ResourceExhaustedFailure",
                "cause": "RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT",
                "scope": "RESOURCE_EXHAUSTED_SCOPE_NAMESPACE",
            }
        ],
    }


def poll(client: Client, queue: str, namespace: str = LIMITED) -> Awaitable[Any]:
    request = PollWorkflowTaskQueueRequest(
        namespace=namespace, task_queue=TaskQueue(name=queue), identity="test"
    )
    return client.workflow_service.poll_workflow_task_queue(
        request, retry=False, timeout=timedelta(seconds=30)
    )


async def pollers(client: Client, queue: str, namespace: str = LIMITED) -> int:
    request = DescribeTaskQueueRequest(namespace=namespace, task_queue=TaskQueue(name=queue))
    return len((await client.workflow_service.describe_task_queue(request)).pollers)


async def test_long_polls_past_the_namespace_count_are_refused_until_one_ends(task_queue: str) -> None:
    async with servers.in_process(dynamic_config={"frontend.namespaceCount": only_for(LIMITED, 1)}) as server:
        client = await Client.connect(server.address)
        await register(client, LIMITED)
        waiting = asyncio.ensure_future(poll(client, task_queue))
        await eventually(lambda: pollers(client, task_queue), interval=0.05)

        message, detail = await refusal(poll(client, f"{task_queue}-other"))
        assert message == "namespace concurrent poller limit exceeded"
        assert detail.cause == ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT
        assert detail.scope == ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE

        # Another namespace polls as before, and so does this one once its poll has ended.
        elsewhere = asyncio.ensure_future(poll(client, task_queue, "default"))
        await eventually(lambda: pollers(client, task_queue, "default"), interval=0.05)
        limited_client = await Client.connect(server.address, namespace=LIMITED)
        await limited_client.start_workflow("Anything", id="first", task_queue=task_queue)
        assert (await waiting).task_token
        await limited_client.start_workflow("Anything", id="second", task_queue=task_queue)
        assert (await poll(client, task_queue)).task_token
        elsewhere.cancel()


async def test_an_sdk_worker_and_client_back_off_and_finish_within_a_low_rate(
    workflow_id: str, task_queue: str
) -> None:
    # Ten calls a second, burst ten: the worker's polls alone would spend more, so some calls
    # are refused, and the SDK's retries of RESOURCE_EXHAUSTED carry the workflow through.
    rate = {
        "frontend.namespaceRPS": only_for(LIMITED, 10),
        "frontend.namespaceBurstRatio": only_for(LIMITED, 1),
    }
    async with servers.in_process(dynamic_config=rate) as server:
        await register(await Client.connect(server.address), LIMITED)
        client = await Client.connect(server.address, namespace=LIMITED)
        async with worker_for(client, task_queue, GREETER):
            handles = [
                await client.start_workflow(
                    w.OneActivity.run, "there", id=f"{workflow_id}-{n}", task_queue=task_queue
                )
                for n in range(5)
            ]
            assert [await handle.result() for handle in handles] == ["Hello, there!"] * 5
        page = Scrape(server.server.metrics.render()[0], bare_counters=True)
        assert page.value("service_errors_resource_exhausted", namespace=LIMITED) > 0
