"""A version's drainage on Cadenza and on the real Temporal dev server, both checking every
second: a version that stops being current drains while a run pinned to it runs, is drained
once none does, and loses its drainage when it is made current again; a drained version made
current or ramping again drains again, and is drained again, once it no longer is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.deployment.v1 import VersionDrainageInfo, WorkerDeploymentVersion
from temporalio.api.enums.v1 import VersionDrainageStatus, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests import servers
from tests.acceptance import batch_options as bo
from tests.acceptance import workflows_deployments as wd
from tests.acceptance.test_worker_deployments import running_on
from tests.helpers import eventually

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(240),
]

QUICK = {
    "matching.wv.VersionDrainageStatusVisibilityGracePeriod": 1,
    "matching.wv.VersionDrainageStatusRefreshInterval": 1,
}
"""Checks a second after a version stops taking new work, and every second after (the
default is every three minutes)."""
DRAINING = VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING
DRAINED = VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED


@pytest.fixture
async def quick_client() -> AsyncIterator[Client]:
    async with servers.in_process(dynamic_config=QUICK) as server:
        yield await Client.connect(server.address)


@pytest.fixture(scope="module")
async def temporal_quick_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    async with servers.temporal_dev_client(tmp_path_factory.mktemp("temporal-drainage"), QUICK) as client:
        yield client


async def _drainage(
    client: Client, deployment: str, build_id: str
) -> tuple[WorkerDeploymentVersionStatus.ValueType, VersionDrainageInfo]:
    described = await client.workflow_service.describe_worker_deployment_version(
        wsv1.DescribeWorkerDeploymentVersionRequest(
            namespace=wd.NAMESPACE,
            deployment_version=WorkerDeploymentVersion(deployment_name=deployment, build_id=build_id),
        )
    )
    info = described.worker_deployment_version_info
    return info.status, info.drainage_info


async def _shown(client: Client, deployment: str, build_id: str) -> list[Any]:
    """The version's status and drainage, its times shown by how they relate."""
    status, drainage = await _drainage(client, deployment, build_id)
    shown: list[Any] = [
        WorkerDeploymentVersionStatus.Name(status),
        VersionDrainageStatus.Name(drainage.status),
        drainage.HasField("last_changed_time"),
    ]
    if drainage.HasField("last_checked_time"):
        changed, checked = (
            drainage.last_changed_time.ToNanoseconds(),
            drainage.last_checked_time.ToNanoseconds(),
        )
        shown.append("checked since the change" if checked > changed else "checked at the change")
    return shown


async def _summaries(client: Client, deployment: str) -> list[tuple[str, str, str]]:
    info = (await wd.describe(client, deployment)).worker_deployment_info
    return sorted(
        (
            s.deployment_version.build_id,
            WorkerDeploymentVersionStatus.Name(s.status),
            VersionDrainageStatus.Name(s.drainage_status),
        )
        for s in info.version_summaries
    )


async def _reaches(client: Client, deployment: str, build_id: str, wanted: int, *, rechecked: bool) -> None:
    async def check() -> None:
        _, drainage = await _drainage(client, deployment, build_id)
        assert drainage.status == wanted
        if rechecked:
            assert drainage.last_checked_time.ToNanoseconds() > drainage.last_changed_time.ToNanoseconds()

    await eventually(check, timeout=30)


async def _scenario(client: Client) -> list[Any]:
    deployment, task_queue = wd.new_deployment(), f"tq-{uuid.uuid4().hex[:8]}"
    seen: list[Any] = []
    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await wd.set_current(client, deployment, "1.0")
        await eventually(lambda: bo.routed(client, deployment))
        handle = await client.start_workflow(wd.Pinned.run, id=f"pinned-{task_queue}", task_queue=task_queue)
        await running_on(handle, "1.0")
        seen.append([await _shown(client, deployment, b) for b in ("1.0", "2.0")])

        await wd.set_current(client, deployment, "2.0")
        await eventually(lambda: bo.routed(client, deployment))
        # Counted again while the pinned run runs: still draining.
        await _reaches(client, deployment, "1.0", DRAINING, rechecked=True)
        seen.append(await _shown(client, deployment, "1.0"))
        seen.append(await _summaries(client, deployment))

        await handle.signal(wd.Pinned.finish)
        assert await handle.result() == "1.0"
        await _reaches(client, deployment, "1.0", DRAINED, rechecked=False)
        seen.append(await _shown(client, deployment, "1.0"))
        seen.append(await _summaries(client, deployment))

        # Current again: no drainage; 2.0, with no pinned run, drains at its first count.
        await wd.set_current(client, deployment, "1.0")
        await eventually(lambda: bo.routed(client, deployment))
        seen.append(await _shown(client, deployment, "1.0"))
        await _reaches(client, deployment, "2.0", DRAINED, rechecked=False)
        seen.append(await _shown(client, deployment, "2.0"))
        seen.append(await _summaries(client, deployment))
    return seen


async def test_versions_drain_alike(quick_client: Client, temporal_quick_client: Client) -> None:
    theirs = await _scenario(temporal_quick_client)
    ours = await _scenario(quick_client)
    assert ours == theirs


async def _drains_again(client: Client) -> list[Any]:
    """A drained version made current, then ramping, again: each time it stops taking new work
    it drains again while a run pinned to it runs, and is drained once none does."""
    deployment, task_queue = wd.new_deployment(), f"tq-{uuid.uuid4().hex[:8]}"
    seen: list[Any] = []

    async def routed_to(build_id: str, percentage: float | None = None) -> None:
        if percentage is None:
            await wd.set_current(client, deployment, build_id)
        else:
            await wd.set_ramping(client, deployment, build_id, percentage)
        await eventually(lambda: bo.routed(client, deployment))

    async def drains_while_pinned(name: str, stop: Any) -> None:
        handle = await client.start_workflow(wd.Pinned.run, id=f"{name}-{task_queue}", task_queue=task_queue)
        await running_on(handle, "1.0")
        seen.append(await _shown(client, deployment, "1.0"))
        await stop()
        await _reaches(client, deployment, "1.0", DRAINING, rechecked=True)
        seen.append(await _shown(client, deployment, "1.0"))
        seen.append(await _summaries(client, deployment))
        await handle.signal(wd.Pinned.finish)
        assert await handle.result() == "1.0"
        await _reaches(client, deployment, "1.0", DRAINED, rechecked=False)
        seen.append(await _shown(client, deployment, "1.0"))

    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await routed_to("1.0")
        await routed_to("2.0")
        await _reaches(client, deployment, "1.0", DRAINED, rechecked=False)
        seen.append(await _shown(client, deployment, "1.0"))

        await routed_to("1.0")  # current again, then not
        await drains_while_pinned("current-again", lambda: routed_to("2.0"))

        await routed_to("1.0", 100)  # ramping again (all new runs), then the ramp ends
        await drains_while_pinned("ramping-again", lambda: routed_to("", 0))
        seen.append(await _summaries(client, deployment))
    return seen


async def test_drained_versions_drain_again_alike(
    quick_client: Client, temporal_quick_client: Client
) -> None:
    theirs = await _drains_again(temporal_quick_client)
    ours = await _drains_again(quick_client)
    assert ours == theirs
    draining = ["WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING", "VERSION_DRAINAGE_STATUS_DRAINING"]
    drained = ["WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED", "VERSION_DRAINAGE_STATUS_DRAINED"]
    assert [shown[:2] for shown in theirs[2::4]] == [draining, draining]  # no longer current, ramping
    assert [shown[:2] for shown in theirs[0::4]] == [drained, drained, drained]
