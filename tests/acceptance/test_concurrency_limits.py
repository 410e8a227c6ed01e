"""Server-side concurrency limits through the SDK: an activity queue's limit holds while
worker processes are killed and restarted, and no task is lost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cadenza.concurrency import ACTIVITY_QUEUE, WORKFLOW_ID_PREFIX, WORKFLOW_TYPE
from tests import servers
from tests.acceptance import raw_calls
from tests.acceptance import workflows_concurrency as wc
from tests.helpers import dispatched, eventually


@contextmanager
def worker_process(address: str, queue: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.acceptance.workflows_concurrency", address, queue, str(log)]
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def set_limit(
    cadenza: servers.InProcessServer, scope: str, name: str, limit: int, policy: str = "queue", **more: object
) -> None:
    """Set a concurrency limit on the default namespace through the HTTP route."""
    assert cadenza.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{cadenza.server.addresses.http}") as http:
        answer = await http.post(
            "/api/v1/cadenza/namespaces/default/concurrency-limits",
            json={"scope": scope, "name": name, "limit": limit, "policy": policy, **more},
        )
    assert answer.status_code == 200, answer.text


async def namespace_id(client: Client) -> str:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    return described.namespace_info.id


def most_overlapping(log: Path, prefix: str = "") -> int:
    """The most completed attempts (of labels starting with ``prefix``) that ran at once, from
    the workers' start and end lines."""
    started: dict[tuple[str, str], float] = {}
    edges: list[tuple[float, int]] = []
    for line in log.read_text().splitlines():
        what, label, attempt, at = line.split()
        if not label.startswith(prefix):
            continue
        if what == "start":
            started[(label, attempt)] = float(at)
        elif (label, attempt) in started:
            edges += [(started[(label, attempt)], 1), (float(at), -1)]
    running = most = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        running += step
        most = max(most, running)
    return most


async def test_an_activity_queue_limit_holds_while_workers_are_killed(tmp_path: Path) -> None:
    async with servers.in_process() as cadenza:
        server = cadenza.server
        client = await Client.connect(cadenza.address)
        queue = f"limited-{uuid.uuid4().hex[:6]}"
        namespace = await namespace_id(client)
        await set_limit(cadenza, ACTIVITY_QUEUE, queue, 2)
        key = (namespace, ACTIVITY_QUEUE, queue)
        seen: list[int] = []

        async def watch() -> None:
            while True:
                seen.append(server.concurrency.running(key))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        log = tmp_path / "activities.log"
        handles = [
            await client.start_workflow(
                wc.OneStep.run, args=[f"a{i}", ""], id=f"{queue}-{i}", task_queue=queue
            )
            for i in range(12)
        ]
        with worker_process(cadenza.address, queue, log) as doomed:
            await eventually(lambda: log.exists() and log.read_text().count("start") >= 2, interval=0.02)
            doomed.kill()  # its two attempts hold their slots until they time out, then are retried
        with worker_process(cadenza.address, queue, log), worker_process(cadenza.address, queue, log):
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
        watcher.cancel()
        assert any(line.split()[2] == "2" for line in log.read_text().splitlines())
        assert sorted(results) == sorted(f"a{i}" for i in range(12))
        assert max(seen) == 2
        assert most_overlapping(log) <= 2
        await eventually(lambda: server.concurrency.running(key) == 0)


async def test_a_fairness_key_limit_holds_each_key_to_its_own_slots(tmp_path: Path) -> None:
    async with servers.in_process() as cadenza:
        client = await Client.connect(cadenza.address)
        queue = f"keyed-{uuid.uuid4().hex[:6]}"
        await set_limit(cadenza, ACTIVITY_QUEUE, queue, 0, fairnessKeyLimit=1)
        log = tmp_path / "activities.log"
        handles = [
            await client.start_workflow(
                wc.OneStep.run, args=[f"{key}{i}", key], id=f"{queue}-{key}{i}", task_queue=queue
            )
            for i in range(3)
            for key in "ab"
        ]
        with worker_process(cadenza.address, queue, log):
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
        assert len(results) == 6
        assert most_overlapping(log, "a") == most_overlapping(log, "b") == 1
        assert most_overlapping(log) == 2  # the keys' slots are their own: one of each ran at once


async def refused_start(
    client: Client, workflow_id: str, queue: str, workflow_type: str = "Waits"
) -> RPCError:
    request = raw_calls.start_request(workflow_id, queue)
    request.workflow_type.name = workflow_type
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.start_workflow_execution(request, retry=False)
    return refused.value


async def finish(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    await handle.signal(wc.Waits.finish)
    assert await handle.result() == "done"


async def test_a_workflow_type_limit_that_rejects_refuses_the_start_past_it(tmp_path: Path) -> None:
    async with servers.in_process() as cadenza:
        client = await Client.connect(cadenza.address)
        queue = f"wf-{uuid.uuid4().hex[:6]}"
        await set_limit(cadenza, WORKFLOW_TYPE, "Waits", 2, "reject")
        with worker_process(cadenza.address, queue, tmp_path / "log"):
            for i in range(2):
                await client.start_workflow(wc.Waits.run, id=f"{queue}-{i}", task_queue=queue)
            refused = await refused_start(client, f"{queue}-2", queue)  # unretried: the server's answer
            assert refused.status == RPCStatusCode.RESOURCE_EXHAUSTED
            assert "workflow-type 'Waits' concurrency limit (2 running) reached" in refused.message
            with pytest.raises(RPCError):  # nothing was written
                await client.get_workflow_handle(f"{queue}-2").describe()

            await finish(client, f"{queue}-0")
            third = await eventually(
                lambda: client.start_workflow(wc.Waits.run, id=f"{queue}-2", task_queue=queue)
            )
            await finish(client, f"{queue}-1")
            await finish(client, third.id)


async def test_a_workflow_id_prefix_limit_that_queues_starts_the_next_once_one_closes(tmp_path: Path) -> None:
    """The start past the limit is accepted at once; its run's first workflow task waits."""
    async with servers.in_process() as cadenza:
        server = cadenza.server
        client = await Client.connect(cadenza.address)
        queue = f"wf-{uuid.uuid4().hex[:6]}"
        namespace = await namespace_id(client)
        await set_limit(cadenza, WORKFLOW_ID_PREFIX, f"{queue}-", 1)
        with worker_process(cadenza.address, queue, tmp_path / "log"):
            await client.start_workflow(wc.Waits.run, id=f"{queue}-first", task_queue=queue)
            second = await client.start_workflow(wc.Waits.run, id=f"{queue}-second", task_queue=queue)
            await eventually(
                lambda: server.concurrency.running((namespace, WORKFLOW_ID_PREFIX, f"{queue}-")) == 1
            )
            assert not await dispatched(second)
            await finish(client, f"{queue}-first")
            await finish(client, second.id)
            await eventually(
                lambda: server.concurrency.running((namespace, WORKFLOW_ID_PREFIX, f"{queue}-")) == 0
            )


async def served_limits(cadenza: servers.InProcessServer) -> list[dict[str, object]]:
    """The default namespace's limits, as the server's HTTP route lists them."""
    assert cadenza.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{cadenza.server.addresses.http}") as http:
        answer = await http.get("/api/v1/cadenza/namespaces/default/concurrency-limits")
    assert answer.status_code == 200, answer.text
    limits: list[dict[str, object]] = answer.json()["limits"]
    return limits


def cli(db: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cadenza", "task-queue", "limit", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_cli_sets_a_limit_the_running_server_enforces(tmp_path: Path) -> None:
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        queue = f"cli-{uuid.uuid4().hex[:6]}"
        cli(cadenza.db, "set", "--workflow-type", "Waits", "--limit", "1", "--policy", "reject")
        assert "workflow-type        Waits" in cli(cadenza.db, "list")

        async def served() -> bool:  # the server reads the limits again within seconds
            return len(await served_limits(cadenza)) == 1

        await eventually(served, timeout=30)
        await client.start_workflow(wc.Waits.run, id=f"{queue}-0", task_queue=queue)
        assert (await refused_start(client, f"{queue}-1", queue)).status == RPCStatusCode.RESOURCE_EXHAUSTED
        listed = [json.loads(line) for line in cli(cadenza.db, "list", "--json").splitlines()]
        assert listed == [
            {
                "namespace": "default",
                "scope": "workflow-type",
                "name": "Waits",
                "limit": 1,
                "fairnessKeyLimit": 0,
                "policy": "reject",
                "running": 1,
            }
        ]
        cli(cadenza.db, "unset", "--workflow-type", "Waits")
        await eventually(lambda: client.start_workflow(wc.Waits.run, id=f"{queue}-1", task_queue=queue))
        for i in range(2):
            await client.get_workflow_handle(f"{queue}-{i}").terminate()


async def test_slots_held_before_a_restart_still_count_after_it(tmp_path: Path) -> None:
    queue = f"restart-{uuid.uuid4().hex[:6]}"
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        await set_limit(cadenza, WORKFLOW_TYPE, "Waits", 1, "reject")
        await client.start_workflow(wc.Waits.run, id=f"{queue}-0", task_queue=queue)
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        assert (await refused_start(client, f"{queue}-1", queue)).status == RPCStatusCode.RESOURCE_EXHAUSTED
        await client.get_workflow_handle(f"{queue}-0").terminate()
        await client.start_workflow(wc.Waits.run, id=f"{queue}-1", task_queue=queue)
        assert (await refused_start(client, f"{queue}-2", queue)).status == RPCStatusCode.RESOURCE_EXHAUSTED
        await client.get_workflow_handle(f"{queue}-1").terminate()
