"""Worker Deployments on replicas sharing one PostgreSQL database: versions registered through
either replica are one deployment, and a routing change made through one replica routes the
work the other dispatches."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from tests.acceptance import workflows_deployments as wd
from tests.helpers import eventually
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(50)]


async def test_versions_and_routing_are_shared_by_the_replicas(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as started:
        first, second = [await Client.connect(r.address) for r in started]
        deployment = wd.new_deployment()
        # Each version's worker polls its own replica: both versions land in one deployment.
        async with (
            wd.versioned_worker(first, "shared", deployment, "1.0"),
            wd.versioned_worker(second, "shared", deployment, "2.0"),
        ):
            for client in (first, second):
                for build_id in ("1.0", "2.0"):
                    await eventually(lambda c=client, b=build_id: wd.visible(c, deployment, b))  # type: ignore[misc]
            await wd.set_current(second, deployment, "1.0")
            # Started through the replica whose worker runs 2.0: its tasks reach 1.0's, on the other.
            handle = await second.start_workflow(wd.Upgrading.run, id="shared-routing", task_queue="shared")
            await handle.signal(wd.Upgrading.finish)
            assert await handle.result() == "1.0"
            await wd.set_current(first, deployment, "2.0")
            moved = await first.start_workflow(wd.Upgrading.run, id="moved-routing", task_queue="shared")
            await moved.signal(wd.Upgrading.finish)
            assert await moved.result() == "2.0"
