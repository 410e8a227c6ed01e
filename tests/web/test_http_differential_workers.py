"""Workflows, schedules and namespaces driven over HTTP on Cadenza and on the real Temporal dev
server, each with the official SDK's worker on its gRPC port; the answers are compared once the
values that always differ are normalized away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.helpers import eventually
from tests.web.conftest import HttpPair
from tests.web.test_http_differential import answer, error_shape, normalized

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

NS = "/api/v1/namespaces/default"

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@pytest.fixture
async def task_queue_served(http_pair: HttpPair, task_queue: str) -> AsyncIterator[str]:
    """A task queue with an SDK worker running the messages workflows on each server."""
    clients = await asyncio.gather(Client.connect(http_pair.ours_grpc), Client.connect(http_pair.real_grpc))
    workers = [Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS) for client in clients]
    async with workers[0], workers[1]:
        yield task_queue


async def on_both(pair: HttpPair, request: Request) -> tuple[httpx.Response, httpx.Response]:
    return await asyncio.gather(request(pair.ours), request(pair.real))


def posting(path: str, body: Any) -> Request:
    return lambda http: http.post(path, json=body)


def getting(path: str) -> Request:
    return lambda http: http.get(path)


async def same_answer(pair: HttpPair, request: Request) -> Any:
    ours, real = await on_both(pair, request)
    assert answer(ours) == answer(real)
    return ours.json()


async def status_of(http: httpx.AsyncClient, workflow_id: str) -> str:
    status: str = (await http.get(f"{NS}/workflows/{workflow_id}")).json()["workflowExecutionInfo"]["status"]
    return status


async def test_signal_query_update_cancel_and_terminate(http_pair: HttpPair, task_queue_served: str) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    workflow = f"{NS}/workflows/{workflow_id}"
    start = {"workflowType": {"name": "Mailbox"}, "taskQueue": {"name": task_queue_served}, "requestId": "s"}
    await same_answer(http_pair, posting(workflow, start))
    await same_answer(
        http_pair, posting(f"{workflow}/signal/deliver", {"input": ["hello"], "requestId": "g"})
    )
    assert await same_answer(http_pair, posting(f"{workflow}/query/count", {})) == {"queryResult": [1]}
    update = {
        "request": {"meta": {"updateId": "u1"}, "input": {"args": ["again"]}},
        "waitPolicy": {"lifecycleStage": "UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED"},
    }
    updated = await same_answer(http_pair, posting(f"{workflow}/update/deliver_and_count", update))
    assert updated["outcome"] == {"success": [2]}

    rejected = {**update, "request": {"meta": {"updateId": "u2"}, "input": {"args": [""]}}}
    ours, real = await on_both(http_pair, posting(f"{workflow}/update/deliver_and_count", rejected))
    assert ours.status_code == real.status_code == 200
    failures = [r.json()["outcome"]["failure"] for r in (ours, real)]
    assert failures[0]["message"] == failures[1]["message"] == "empty message"

    ours, real = await on_both(http_pair, posting(f"{workflow}/query/no-such-query", {}))
    assert error_shape(ours) == error_shape(real)

    await same_answer(http_pair, posting(f"{workflow}/cancel", {"reason": "enough", "requestId": "c"}))

    async def cancelled() -> None:
        ours_status, real_status = await asyncio.gather(
            *(status_of(h, workflow_id) for h in (http_pair.ours, http_pair.real))
        )
        assert ours_status == real_status == "WORKFLOW_EXECUTION_STATUS_CANCELED"

    await eventually(cancelled)
    ours, real = await on_both(http_pair, posting(f"{workflow}/terminate", {"reason": "late"}))
    assert error_shape(ours) == error_shape(real)

    other = f"{workflow}-t"
    await same_answer(http_pair, posting(other, {**start, "requestId": "t"}))
    await same_answer(http_pair, posting(f"{other}/terminate", {"reason": "stop"}))
    for http in (http_pair.ours, http_pair.real):
        assert await status_of(http, f"{workflow_id}-t") == "WORKFLOW_EXECUTION_STATUS_TERMINATED"


async def test_schedules(http_pair: HttpPair, task_queue: str) -> None:
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    schedule = f"{NS}/schedules/{schedule_id}"
    body = {
        "schedule": {
            "spec": {"interval": [{"interval": "3600s"}]},
            "action": {
                "startWorkflow": {
                    "workflowId": f"from-{schedule_id}",
                    "workflowType": {"name": "Mailbox"},
                    "taskQueue": {"name": task_queue},
                    "input": ["scheduled", {"n": 1}],
                }
            },
            "state": {"paused": True, "notes": "by HTTP"},
        },
        "requestId": "create",
    }
    ours, real = await on_both(http_pair, posting(schedule, body))
    assert ours.status_code == real.status_code == 200
    assert ours.json().keys() == real.json().keys()
    described = [(await http.get(schedule)).json()["schedule"] for http in (http_pair.ours, http_pair.real)]
    # Temporal fills in the action's task queue kind (NORMAL); Cadenza's schedules leave it unset.
    described[1]["action"]["startWorkflow"]["taskQueue"].pop("kind", None)
    for part in ("spec", "action", "state"):
        assert normalized(described[0][part]) == normalized(described[1][part])
    await same_answer(http_pair, posting(schedule, body))  # the same request again: taken once
    ours, real = await on_both(http_pair, posting(schedule, {**body, "requestId": "another"}))
    assert error_shape(ours) == error_shape(real)
    ours, real = await on_both(http_pair, lambda http: http.delete(schedule))
    assert answer(ours) == answer(real)
    ours, real = await on_both(http_pair, getting(schedule))
    assert error_shape(ours) == error_shape(real)


async def test_namespaces_and_search_attributes(http_pair: HttpPair) -> None:
    name = f"ns-{uuid.uuid4().hex[:8]}"
    register = {"namespace": name, "workflowExecutionRetentionPeriod": "86400s", "description": "d"}
    await same_answer(http_pair, posting("/api/v1/namespaces", register))
    ours, real = await on_both(http_pair, getting(f"/api/v1/namespaces/{name}"))
    for key in ("name", "state", "description"):
        assert ours.json()["namespaceInfo"][key] == real.json()["namespaceInfo"][key]
    assert (
        ours.json()["config"]["workflowExecutionRetentionTtl"]
        == real.json()["config"]["workflowExecutionRetentionTtl"]
    )
    ours, real = await on_both(http_pair, posting("/api/v1/namespaces", register))
    assert error_shape(ours) == error_shape(real)
    ours, real = await on_both(http_pair, getting("/api/v1/namespaces/no-such-namespace"))
    assert error_shape(ours) == error_shape(real)
    await same_answer(http_pair, getting(f"{NS}/search-attributes"))
