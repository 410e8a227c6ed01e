"""Several Cadenza replicas on one PostgreSQL database, as real processes with SDK workers.

Workflows started through both replicas, with workers polling both, complete
exactly once; they still do when one replica is SIGKILLed mid-load (its timers
and tasks are taken over once its lease runs out), and when PostgreSQL itself
restarts under load (the server reconnects, nothing acknowledged is lost).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from tests import postgres
from tests.integration import workflows_replicas as w
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(180)]
WORKFLOWS = 200
QUEUE = "replicas"


@pytest.fixture(scope="module")
def cluster() -> Iterator[postgres.Cluster]:
    """A private cluster: the restart test stops and starts it."""
    bin_dir = postgres.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    cluster = postgres.Cluster(bin_dir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@asynccontextmanager
async def workers(clients: list[Client]) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(
                Worker(
                    client,
                    task_queue=QUEUE,
                    workflows=[w.OneActivity],
                    activities=[w.note],
                    graceful_shutdown_timeout=timedelta(seconds=1),
                )
            )
        yield


async def start_all(
    clients: list[Client], prefix: str, count: int = WORKFLOWS
) -> list[WorkflowHandle[w.OneActivity, str]]:
    """Start the workflows through every client in turn, a few at a time."""

    async def start(i: int) -> WorkflowHandle[w.OneActivity, str]:
        workflow_id = f"{prefix}-{i}"
        return await clients[i % len(clients)].start_workflow(
            w.OneActivity.run, workflow_id, id=workflow_id, task_queue=QUEUE
        )

    handles: list[WorkflowHandle[w.OneActivity, str]] = []
    for first in range(0, count, 20):
        handles += await asyncio.gather(*(start(i) for i in range(first, min(first + 20, count))))
    return handles


async def assert_completed_once(client: Client, workflow_ids: list[str]) -> None:
    """Every workflow's result is its own; its history completes it and its activity once."""
    results = await asyncio.wait_for(
        asyncio.gather(*(client.get_workflow_handle(i).result() for i in workflow_ids)), 120
    )
    assert results == [f"done {i}" for i in workflow_ids]
    for workflow_id in workflow_ids:
        handle = client.get_workflow_handle(workflow_id)
        events = [e.event_type async for e in handle.fetch_history_events()]
        assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) == 1, workflow_id
        assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1, workflow_id
        assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) == 1, workflow_id
        assert w.EXECUTIONS[workflow_id] >= 1, workflow_id


async def test_two_replicas_complete_every_workflow_once(cluster: postgres.Cluster, tmp_path: Path) -> None:
    url = await postgres.create_database(cluster.url)
    async with replicas(url, tmp_path, 2) as (a, b):
        clients = [await Client.connect(a.address), await Client.connect(b.address)]
        async with workers(clients):
            handles = await start_all(clients, "both")
            await assert_completed_once(clients[0], [h.id for h in handles])
    # Without a replica dying nothing times out, so no activity ran twice.
    assert all(w.EXECUTIONS[h.id] == 1 for h in handles)


async def test_a_worker_on_one_replica_runs_workflows_started_on_the_other(
    cluster: postgres.Cluster, tmp_path: Path
) -> None:
    """Every task is created on B (starts, activity completions' next workflow tasks go
    wherever the worker reports), and only A has a worker: announcements carry them over."""
    url = await postgres.create_database(cluster.url)
    async with replicas(url, tmp_path, 2) as (a, b):
        worker_side, starting_side = await Client.connect(a.address), await Client.connect(b.address)
        async with workers([worker_side]):
            handles = await start_all([starting_side], "across", 20)
            await assert_completed_once(starting_side, [h.id for h in handles])


async def test_a_replica_killed_mid_load_leaves_nothing_unfinished(
    cluster: postgres.Cluster, tmp_path: Path
) -> None:
    url = await postgres.create_database(cluster.url)
    async with replicas(url, tmp_path, 2) as (a, b):
        clients = [await Client.connect(a.address), await Client.connect(b.address)]
        async with workers(clients):
            handles = await start_all(clients, "killed")
            await asyncio.wait_for(handles[0].result(), 60)
            b.kill()
            await assert_completed_once(clients[0], [h.id for h in handles])
            # Back on its port, so the workers that were connected to it can shut down.
            b.start()
            await b.wait_ready()


async def test_postgres_restart_under_load_loses_nothing_acknowledged(
    cluster: postgres.Cluster, tmp_path: Path
) -> None:
    url = await postgres.create_database(cluster.url)
    async with replicas(url, tmp_path, 1) as (server,):
        client = await Client.connect(server.address)
        async with workers([client]):
            before = await start_all([client], "before")
            # Restart while those run and more are being started: every start that was
            # answered must complete; the rest the SDK retries until the database is back.
            _, during = await asyncio.gather(
                asyncio.to_thread(cluster.restart), start_all([client], "during", WORKFLOWS // 2)
            )
            await assert_completed_once(client, [h.id for h in before + during])
