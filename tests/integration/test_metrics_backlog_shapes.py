"""The backlog's metrics by priority key and by fairness key, and the concurrency limits', read
from a real server's page while the official SDK's starts wait on a queue no worker polls."""

from __future__ import annotations

import uuid

import httpx
from temporalio.client import Client
from temporalio.common import Priority

from cadenza.metrics.guard import temporal_value
from tests import servers
from tests.helpers import eventually
from tests.integration import metrics_workflows as mw
from tests.scrape import Scrape


def scrape(server: servers.InProcessServer) -> Scrape:
    body, _ = server.server.metrics.render()
    return Scrape(body)


async def test_the_backlog_is_counted_by_priority_and_by_its_largest_fairness_keys(
    in_process_server: servers.InProcessServer,
) -> None:
    client = await Client.connect(in_process_server.address)
    queue = f"idle-{uuid.uuid4().hex[:8]}"
    for i, (priority, key) in enumerate([(1, "a"), (1, "a"), (3, "b"), (5, "a")]):
        await client.start_workflow(
            mw.Waits.run,
            id=f"{queue}-{i}",
            task_queue=queue,
            priority=Priority(priority_key=priority, fairness_key=key),
        )
    labels = {"namespace": "default", "taskqueue": temporal_value(queue), "task_type": "Workflow"}

    def counted() -> Scrape:
        page = scrape(in_process_server)
        assert page.value("approximate_backlog_count", **labels, task_priority="1") == 2
        return page

    page = await eventually(counted)
    assert page.value("approximate_backlog_count", **labels, task_priority="3") == 1
    assert page.value("approximate_backlog_count", **labels, task_priority="5") == 1
    assert page.value("cadenza_backlog_fairness_key_count", **labels, fairness_key="a") == 3
    assert page.value("cadenza_backlog_fairness_key_count", **labels, fairness_key="b") == 1


async def test_the_backlog_by_priority_leaves_out_the_tasks_of_runs_that_closed(
    in_process_server: servers.InProcessServer,
) -> None:
    client = await Client.connect(in_process_server.address)
    queue = f"idle-{uuid.uuid4().hex[:8]}"
    handles = [
        await client.start_workflow(
            mw.Waits.run, id=f"{queue}-{i}", task_queue=queue, priority=Priority(priority_key=priority)
        )
        for i, priority in enumerate([1, 1, 3, 3, 3])
    ]
    for handle in handles[:3]:  # their workflow tasks are withdrawn from the backlog
        await handle.terminate()
    labels = {"namespace": "default", "taskqueue": temporal_value(queue), "task_type": "Workflow"}

    def counted() -> Scrape:
        page = scrape(in_process_server)
        assert page.value("approximate_backlog_count", **labels) == 2
        return page

    page = await eventually(counted)
    assert page.value("approximate_backlog_count", **labels, task_priority="1") == 0
    assert page.value("approximate_backlog_count", **labels, task_priority="3") == 2


async def test_a_concurrency_limit_reports_its_running_slots(
    in_process_server: servers.InProcessServer,
) -> None:
    client = await Client.connect(in_process_server.address)
    assert in_process_server.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{in_process_server.server.addresses.http}") as http:
        answer = await http.post(
            "/api/v1/cadenza/namespaces/default/concurrency-limits",
            json={"scope": "workflow-type", "name": "Waits", "limit": 3},
        )
        assert answer.status_code == 200, answer.text
    queue = f"idle-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(mw.Waits.run, id=f"{queue}-0", task_queue=queue)
    limit = {"namespace": "default", "scope": "workflow-type", "target": "Waits"}
    page = scrape(in_process_server)
    assert page.value("cadenza_concurrency_limit", **limit) == 3
    assert page.value("cadenza_concurrency_running", **limit) == 1
