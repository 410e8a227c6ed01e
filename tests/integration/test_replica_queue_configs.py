"""Task queue configs on replicas sharing one PostgreSQL database: a change made through one
replica is what every other replica reports and enforces."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import RateLimitSource, TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit, TaskQueue, TaskQueueConfig
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, UpdateTaskQueueConfigRequest
from temporalio.client import Client

from cadenza.matching.queue_configs import QueueConfigs
from cadenza.matching.rate_limits import RateLimits
from cadenza.matching.rate_limits import RateLimitSource as SourceOfRate
from cadenza.persistence.backends import open_store
from cadenza.persistence.records import TaskKind
from tests.helpers import eventually
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]
ACTIVITY = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY


async def test_a_config_set_through_one_replica_reaches_the_other(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as started:
        first, second = [await Client.connect(r.address) for r in started]
        await first.workflow_service.update_task_queue_config(
            UpdateTaskQueueConfigRequest(
                namespace="default",
                task_queue="shared",
                task_queue_type=ACTIVITY,
                update_queue_rate_limit=UpdateTaskQueueConfigRequest.RateLimitUpdate(
                    rate_limit=RateLimit(requests_per_second=3.0), reason="shared"
                ),
            )
        )

        async def described_on_second() -> None:
            described = await second.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace="default",
                    task_queue=TaskQueue(name="shared"),
                    task_queue_type=ACTIVITY,
                    report_config=True,
                )
            )
            assert described.config.queue_rate_limit.metadata.reason == "shared"
            assert described.effective_rate_limit.requests_per_second == 3.0
            assert described.effective_rate_limit.rate_limit_source == RateLimitSource.RATE_LIMIT_SOURCE_API

        await eventually(described_on_second, timeout=10)


async def test_each_replica_applies_the_changes_it_reads_to_its_limiters(postgres_database: str) -> None:
    stores = [open_store(postgres_database) for _ in range(2)]
    for store in stores:
        await store.open()
    try:
        limits = [RateLimits(), RateLimits()]
        here, there = (
            QueueConfigs(store, limit, shared=True) for store, limit in zip(stores, limits, strict=True)
        )
        await there.load()

        def five_a_second(config: TaskQueueConfig) -> None:
            config.queue_rate_limit.rate_limit.requests_per_second = 5.0

        await here.update("ns", "q", ACTIVITY, five_a_second)
        assert limits[0].effective("ns", "q", TaskKind.ACTIVITY) == (5.0, SourceOfRate.API)
        assert limits[1].effective("ns", "q", TaskKind.ACTIVITY)[1] == SourceOfRate.SYSTEM
        await there.load()  # what its background pass does every few seconds
        assert limits[1].effective("ns", "q", TaskKind.ACTIVITY) == (5.0, SourceOfRate.API)
    finally:
        for store in stores:
            await store.close()
