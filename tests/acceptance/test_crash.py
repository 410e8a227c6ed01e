"""Durability: SIGKILL the server mid-load, restart it on the same file, lose nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows as w

pytestmark = pytest.mark.crash
IN_FLIGHT = 50


async def test_workflows_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    async with servers.running(db, tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        handles = [
            await client.start_workflow(w.TwoSteps.run, i, id=f"crash-{i}", task_queue="crash")
            for i in range(IN_FLIGHT)
        ]
        async with Worker(
            client,
            task_queue="crash",
            workflows=w.ALL_WORKFLOWS,
            activities=w.ALL_ACTIVITIES,
            max_concurrent_activities=20,
        ):
            await asyncio.sleep(0.7)  # let some workflows reach their activities
            server.kill()
            await asyncio.sleep(0.5)
            server.start()  # same port and file
            await server.wait_ready()
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=90)
        assert results == [f"slept 0.5/{i}" for i in range(IN_FLIGHT)]
        for handle in handles[:5]:
            history = await handle.fetch_history()
            completed = [
                e for e in history.events if e.HasField("workflow_execution_completed_event_attributes")
            ]
            assert len(completed) == 1
