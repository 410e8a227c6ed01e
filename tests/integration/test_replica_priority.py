"""Priority across replicas on one PostgreSQL: tasks created on one replica are dispatched
in priority order by another, whose worker is the only one polling."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.common import Priority

from tests.acceptance import workflows_priority as wp
from tests.acceptance.test_priority import one_at_a_time, ran, start_noted
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]


async def test_a_replica_dispatches_tasks_another_created_in_priority_order(
    postgres_database: str, tmp_path: Path
) -> None:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    queue = "replica-priority"
    keys = [3, 5, 1, 2, 0, 1, 4, 2, 3, 7]
    labels = [
        (f"{i}:{key}", Priority(priority_key=key) if key else Priority.default) for i, key in enumerate(keys)
    ]
    async with replicas(postgres_database, tmp_path, 2) as (a, b):
        creator, dispatcher = await Client.connect(a.address), await Client.connect(b.address)
        handles = await start_noted(creator, queue, prefix, labels)
        async with one_at_a_time(dispatcher, queue, [wp.Noted]):
            for handle in handles:
                await dispatcher.get_workflow_handle(handle.id).result()
    assert ran(prefix) == ["2:1", "5:1", "3:2", "7:2", "0:3", "4:0", "8:3", "6:4", "1:5", "9:7"]
