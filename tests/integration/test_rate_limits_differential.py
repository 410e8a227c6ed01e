"""The same limits on Cadenza and on the real Temporal dev server give the same refusals:
the status, message and ResourceExhaustedFailure over gRPC, and the 429 and error JSON over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    ListWorkflowExecutionsRequest,
    PollWorkflowTaskQueueRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers
from tests.helpers import eventually
from tests.integration.test_rate_limits import refusal

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

LIMITS = {"frontend.namespaceRPS.visibility": 0, "frontend.namespaceCount": 1}
"""One list call and then none (a burst is at least one), and one task poll at a time: both
refusals, and nothing left to time."""


@dataclass(frozen=True)
class Limited:
    client: Client
    http: str


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Limited, Limited]]:
    workdir = tmp_path_factory.mktemp("temporal-limited")
    temporal = servers.temporal(workdir / "temporal.db", workdir / "temporal.log", dynamic_config=LIMITS)
    temporal_http = f"127.0.0.1:{temporal.argv[temporal.argv.index('--http-port') + 1]}"
    temporal.start()
    try:
        await temporal.wait_ready()
        async with servers.in_process(http_port=0, dynamic_config=LIMITS) as cadenza:
            assert cadenza.server.addresses is not None
            yield (
                Limited(await Client.connect(cadenza.address), cadenza.server.addresses.http),
                Limited(await Client.connect(temporal.address), temporal_http),
            )
    finally:
        temporal.stop()


async def list_refusal(server: Limited) -> dict[str, Any]:
    request = ListWorkflowExecutionsRequest(namespace="default")
    with contextlib.suppress(RPCError):  # the one call the burst lets through, if not spent yet
        await server.client.workflow_service.list_workflow_executions(request, retry=False)
    message, detail = await refusal(
        server.client.workflow_service.list_workflow_executions(request, retry=False)
    )
    return {"message": message, "detail": MessageToDict(detail)}


async def test_a_list_over_the_visibility_rate_is_refused_alike(pair: tuple[Limited, Limited]) -> None:
    ours, real = pair
    assert await list_refusal(ours) == await list_refusal(real)


async def http_refusal(server: Limited) -> tuple[int, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await eventually(
            lambda: http.get(f"http://{server.http}/api/v1/namespaces/default/workflows")
        )
    return answer.status_code, answer.json()


async def test_over_http_the_refusal_is_the_same_429(pair: tuple[Limited, Limited]) -> None:
    ours, real = pair
    status, body = await http_refusal(ours)
    assert status == 429
    assert (status, body) == await http_refusal(real)


def poll(server: Limited, queue: str) -> Any:
    request = PollWorkflowTaskQueueRequest(
        namespace="default", task_queue=TaskQueue(name=queue), identity="test"
    )
    return server.client.workflow_service.poll_workflow_task_queue(
        request, retry=False, timeout=timedelta(seconds=20)
    )


async def pollers(server: Limited, queue: str) -> int:
    request = DescribeTaskQueueRequest(namespace="default", task_queue=TaskQueue(name=queue))
    return len((await server.client.workflow_service.describe_task_queue(request)).pollers)


async def concurrent_refusal(server: Limited, task_queue: str) -> dict[str, Any]:
    waiting = asyncio.ensure_future(poll(server, task_queue))
    try:
        await eventually(lambda: pollers(server, task_queue), interval=0.05)
        message, detail = await refusal(poll(server, f"{task_queue}-2"))
    finally:
        waiting.cancel()
    return {"message": message, "detail": MessageToDict(detail)}


async def test_a_poll_past_the_namespace_count_is_refused_alike(
    pair: tuple[Limited, Limited], task_queue: str
) -> None:
    ours, real = pair
    assert await concurrent_refusal(ours, task_queue) == await concurrent_refusal(real, task_queue)
