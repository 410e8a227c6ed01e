"""A concurrency limit on replicas sharing one PostgreSQL database: an activity queue's limit,
and a workflow type's limit on children started from parents on both, hold across the
replicas, with a worker on each; starts waiting for a slot outlive the replica that took them."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from tests import servers
from tests.acceptance import workflows_concurrency as wc
from tests.acceptance.concurrency_checks import most_at_once, most_dispatched_at_once
from tests.acceptance.test_concurrency_limits import most_overlapping, worker_process
from tests.acceptance.test_concurrency_queued_starts import start_limited
from tests.helpers import eventually
from tests.integration import replica_servers

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]
LIMIT = 2
"""How many may run at once: each test asks for more than this at once, so it must be reached."""


async def set_limit(replicas: list[servers.ServerProcess], database: str, *target: str) -> None:
    """Set a limit of ``LIMIT`` on ``target`` with the CLI, and wait until every replica
    serves it."""
    setting = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cadenza",
        "task-queue",
        "limit",
        "set",
        "--db",
        database,
        *target,
        "--limit",
        str(LIMIT),
    )
    assert await setting.wait() == 0

    async def both_read_it() -> None:
        for replica in replicas:
            async with httpx.AsyncClient(base_url=replica_servers.http_address(replica)) as http:
                answer = await http.get("/api/v1/cadenza/namespaces/default/concurrency-limits")
            assert len(answer.json()["limits"]) == 1

    await eventually(both_read_it, timeout=30)


async def test_an_activity_queue_limit_holds_across_replicas(postgres_database: str, tmp_path: Path) -> None:
    async with replica_servers.replicas(postgres_database, tmp_path, 2) as replicas:
        queue = f"shared-{uuid.uuid4().hex[:6]}"
        await set_limit(replicas, postgres_database, "--activity-queue", queue)
        client = await Client.connect(replicas[0].address)
        handles = [
            await client.start_workflow(
                wc.OneStep.run, args=[f"s{i}", ""], id=f"{queue}-{i}", task_queue=queue
            )
            for i in range(8)
        ]
        log = tmp_path / "activities.log"
        with worker_process(replicas[0].address, queue, log), worker_process(replicas[1].address, queue, log):
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)
        assert sorted(results) == sorted(f"s{i}" for i in range(8))
        # The eight attempts, all scheduled at once, keep the limit full until the last few.
        assert most_overlapping(log) == LIMIT


async def test_a_workflow_type_limit_holds_for_children_of_parents_on_both_replicas(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replica_servers.replicas(postgres_database, tmp_path, 2) as replicas:
        await set_limit(replicas, postgres_database, "--workflow-type", "Limited")
        queue = f"shared-{uuid.uuid4().hex[:6]}"
        clients = [await Client.connect(replica.address) for replica in replicas]
        parents = [
            await client.start_workflow(
                wc.FanOut.run, args=[f"{queue}-{i}", 4, "Limited"], id=f"{queue}-{i}", task_queue=queue
            )
            for i, client in enumerate(clients)
        ]
        log = tmp_path / "activities.log"
        with worker_process(replicas[0].address, queue, log), worker_process(replicas[1].address, queue, log):
            results = await asyncio.wait_for(asyncio.gather(*(p.result() for p in parents)), 90)
        children = [f"{queue}-{i}-{j}" for i in range(2) for j in range(4)]
        assert sorted(child for result in results for child in result) == children
        # A child takes its slot before its run is written and frees it once closed; eight
        # children asked for at once keep the limit full until the last few.
        assert await most_at_once(clients[0], children) == LIMIT


async def test_starts_waiting_for_slots_on_a_stopped_replica_run_on_the_other(
    postgres_database: str, tmp_path: Path
) -> None:
    """A client's starts past a full ``queue`` limit all return at once; their waits are stored,
    so when the replica that took them stops, the other one gives them their slots."""
    async with replica_servers.replicas(postgres_database, tmp_path, 2) as replicas:
        await set_limit(replicas, postgres_database, "--workflow-type", "Limited")
        queue = f"shared-{uuid.uuid4().hex[:6]}"
        client = await Client.connect(replicas[0].address)
        handles = await start_limited(client, queue, 6)  # no worker yet: two keep their slots
        replicas[0].stop()
        client = await Client.connect(replicas[1].address)
        handles = [client.get_workflow_handle(handle.id) for handle in handles]
        with worker_process(replicas[1].address, queue, tmp_path / "activities.log"):
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)
        assert results == [handle.id for handle in handles]
        # The first two held their slots while no worker ran, so both ran at once.
        assert await most_dispatched_at_once(handles) == LIMIT
