"""Standalone activities are durable: the server is killed with activities waiting on their
queue, in their start delay and in a retry backoff, and after the restart each runs once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import ActivityExecutionStatus, Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import activities_standalone as a
from tests.helpers import eventually

pytestmark = pytest.mark.crash
WAITING = 10


async def test_standalone_activities_survive_sigkill(tmp_path: Path) -> None:
    queue, retry_queue = f"q-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:8]}"
    async with servers.running(tmp_path / "crash.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        ids = [f"waiting-{i}" for i in range(WAITING)]
        for i, activity_id in enumerate(ids):
            await client.start_activity(
                a.recorded,
                i,
                id=activity_id,
                task_queue=queue,
                start_to_close_timeout=timedelta(seconds=10),
                start_delay=timedelta(seconds=1) if i == 0 else None,
            )
        retried = await client.start_activity(
            a.fails_twice,
            "kept",
            id="in-backoff",
            task_queue=retry_queue,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=5),
        )
        async with Worker(client, task_queue=retry_queue, activities=a.ALL):

            async def first_attempt_failed() -> None:
                assert (await retried.describe()).attempt == 2

            await eventually(first_attempt_failed)
        server.kill()
        server.start()  # same port and database
        await server.wait_ready()

        client = await Client.connect(server.address)
        async with (
            Worker(client, task_queue=queue, activities=[a.recorded]),
            Worker(client, task_queue=retry_queue, activities=a.ALL),
        ):
            results = [await client.get_activity_handle(i, result_type=int).result() for i in ids]
            retried_result = await client.get_activity_handle("in-backoff", result_type=str).result()
        assert results == [2 * i for i in range(WAITING)]
        assert retried_result == "kept from attempt 2, done on attempt 3"
        assert sorted(a.RUNS) == sorted(ids)
        for activity_id in ids[:3]:
            described = await client.get_activity_handle(activity_id).describe()
            assert described.status == ActivityExecutionStatus.COMPLETED
