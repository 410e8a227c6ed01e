"""Standalone activities on replicas sharing PostgreSQL: started on one replica, run by a worker
polling another, their result read on the first; a retry backoff timer outlives its replica."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from tests.acceptance import activities_standalone as a
from tests.helpers import eventually
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]


async def test_an_activity_started_on_one_replica_runs_on_a_worker_of_another(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as (starter, runner):
        first = await Client.connect(starter.address)
        second = await Client.connect(runner.address)
        handle = await first.start_activity(
            a.add_one, 1, id="across", task_queue="replicated", start_to_close_timeout=timedelta(seconds=10)
        )
        async with Worker(second, task_queue="replicated", activities=a.ALL):
            assert await handle.result() == 2


async def test_a_retry_timer_of_a_killed_replica_fires_on_another(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as (doomed, survivor):
        first = await Client.connect(doomed.address)
        handle = await first.start_activity(
            a.fails_twice,
            "outlived",
            id="in-backoff",
            task_queue="backoff",
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5),
        )
        async with Worker(first, task_queue="backoff", activities=a.ALL):

            async def first_attempt_failed() -> None:
                assert (await handle.describe()).attempt == 2

            await eventually(first_attempt_failed)
        doomed.kill()
        second = await Client.connect(survivor.address)
        async with Worker(second, task_queue="backoff", activities=a.ALL):
            result = await second.get_activity_handle("in-backoff", result_type=str).result()
        assert result == "outlived from attempt 2, done on attempt 3"
