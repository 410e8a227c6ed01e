"""Worker Deployments through the SDK: versions registered by their workers, new work routed to
the current and ramping versions, pinned runs kept on theirs, and the RPCs' refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import EventType, VersioningBehavior, WorkerDeploymentVersionStatus
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionInfo, WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_deployments as wd
from tests.helpers import eventually

PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
AUTO_UPGRADE = VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
STATUS = WorkerDeploymentVersionStatus


async def running_on(handle: WorkflowHandle[Any, str], build_id: str) -> None:
    """Wait until the run's first workflow task was completed by ``build_id``."""

    async def check() -> None:
        info = (await raw.describe(handle._client, handle.id)).workflow_execution_info
        assert info.versioning_info.deployment_version.build_id == build_id

    await eventually(check)


async def test_pinned_runs_stay_on_their_version_and_others_move_to_the_new_current(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await wd.set_current(client, deployment, "1.0")
        pinned = await client.start_workflow(wd.Pinned.run, id=f"{workflow_id}-p", task_queue=task_queue)
        upgrading = await client.start_workflow(
            wd.Upgrading.run, id=f"{workflow_id}-u", task_queue=task_queue
        )
        await running_on(pinned, "1.0")
        await running_on(upgrading, "1.0")

        moved = await wd.set_current(client, deployment, "2.0")
        assert moved.previous_deployment_version.build_id == "1.0"
        await pinned.signal(wd.Pinned.finish)
        await upgrading.signal(wd.Upgrading.finish)
        assert await pinned.result() == "1.0"
        assert await upgrading.result() == "2.0"

    pinned_info = (await raw.describe(client, pinned.id)).workflow_execution_info
    assert pinned_info.versioning_info.behavior == PINNED
    assert pinned_info.versioning_info.version == f"{deployment}.1.0"
    upgraded = (await raw.describe(client, upgrading.id)).workflow_execution_info
    assert upgraded.versioning_info.behavior == AUTO_UPGRADE
    assert upgraded.versioning_info.deployment_version.build_id == "2.0"
    fields = {k: v.data for k, v in pinned_info.search_attributes.indexed_fields.items()}
    assert fields["TemporalWorkerDeploymentVersion"] == f'"{deployment}:1.0"'.encode()
    assert fields["TemporalWorkflowVersioningBehavior"] == b'"Pinned"'
    assert fields["BuildIds"].startswith(f'["pinned:{deployment}:1.0"'.encode())

    listed = await eventually(
        lambda: _listed(client, f"TemporalWorkerDeploymentVersion = '{deployment}:2.0'", 1)
    )
    assert [e.execution.workflow_id for e in listed] == [upgrading.id]


async def _listed(client: Client, query: str, count: int) -> list[WorkflowExecutionInfo]:
    page = await client.workflow_service.list_workflow_executions(
        wsv1.ListWorkflowExecutionsRequest(namespace=wd.NAMESPACE, query=query)
    )
    assert len(page.executions) == count
    return list(page.executions)


async def test_a_full_ramp_sends_new_runs_to_the_ramping_version_and_the_deployment_shows_it(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await wd.set_current(client, deployment, "1.0")
        ramped = await wd.set_ramping(client, deployment, "2.0", 100)
        assert ramped.previous_version == ""
        handle = await client.start_workflow(wd.Upgrading.run, id=workflow_id, task_queue=task_queue)
        await running_on(handle, "2.0")
        await handle.signal(wd.Upgrading.finish)
        assert await handle.result() == "2.0"

        info = (await wd.describe(client, deployment)).worker_deployment_info
        routing = info.routing_config
        assert (routing.current_version, routing.ramping_version) == (
            f"{deployment}.1.0",
            f"{deployment}.2.0",
        )
        assert routing.ramping_version_percentage == 100
        statuses = {s.deployment_version.build_id: s.status for s in info.version_summaries}
        assert statuses == {
            "1.0": STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT,
            "2.0": STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING,
        }

        # Making the ramping version current ends the ramp; the old current drains.
        await wd.set_current(client, deployment, "2.0")
        info = (await wd.describe(client, deployment)).worker_deployment_info
        assert info.routing_config.ramping_version == ""
        statuses = {s.deployment_version.build_id: s.status for s in info.version_summaries}
        assert statuses["1.0"] == STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING

        listed = await client.workflow_service.list_worker_deployments(
            wsv1.ListWorkerDeploymentsRequest(namespace=wd.NAMESPACE, page_size=1000)
        )
        mine = [d for d in listed.worker_deployments if d.name == deployment]
        assert mine[0].current_version_summary.deployment_version.build_id == "2.0"


async def test_the_deployment_rpcs_refuse_as_temporal_does_and_keep_version_metadata(
    client: Client, task_queue: str
) -> None:
    deployment = wd.new_deployment()
    ws = client.workflow_service
    with pytest.raises(RPCError) as missing:
        await wd.describe(client, deployment)
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert missing.value.message == (
        f"no Worker Deployment found with name '{deployment}'; does your Worker Deployment have pollers?"
    )
    async with wd.versions(client, task_queue, deployment, "1.0"):
        refusals = [
            (
                wd.set_current(client, deployment, "9.9"),
                RPCStatusCode.NOT_FOUND,
                f"build ID '9.9' not found in Worker Deployment '{deployment}'",
            ),
            (
                ws.set_worker_deployment_current_version(
                    wsv1.SetWorkerDeploymentCurrentVersionRequest(
                        namespace=wd.NAMESPACE,
                        deployment_name=deployment,
                        build_id="1.0",
                        conflict_token=b"stale",
                    )
                ),
                RPCStatusCode.FAILED_PRECONDITION,
                "conflict token mismatch",
            ),
            (
                wd.set_ramping(client, deployment, "1.0", 101),
                RPCStatusCode.INVALID_ARGUMENT,
                "Percentage must be between 0 and 100 (inclusive)",
            ),
        ]
        for call, status, message in refusals:
            with pytest.raises(RPCError) as refused:
                await call
            assert (refused.value.status, refused.value.message) == (status, message)

        described = await wd.describe(client, deployment)
        current = await ws.set_worker_deployment_current_version(
            wsv1.SetWorkerDeploymentCurrentVersionRequest(
                namespace=wd.NAMESPACE,
                deployment_name=deployment,
                build_id="1.0",
                conflict_token=described.conflict_token,
            )
        )
        assert current.previous_version == "__unversioned__"
        with pytest.raises(RPCError) as ramping_current:
            await wd.set_ramping(client, deployment, "1.0", 10)
        assert (
            ramping_current.value.message == f"requested ramping version {deployment}.1.0 is already current"
        )

        version = WorkerDeploymentVersion(deployment_name=deployment, build_id="1.0")
        await ws.update_worker_deployment_version_metadata(
            wsv1.UpdateWorkerDeploymentVersionMetadataRequest(
                namespace=wd.NAMESPACE,
                deployment_version=version,
                upsert_entries={"owner": Payload(data=b'"team-a"'), "drop": Payload(data=b"1")},
            )
        )
        kept = await ws.update_worker_deployment_version_metadata(
            wsv1.UpdateWorkerDeploymentVersionMetadataRequest(
                namespace=wd.NAMESPACE, deployment_version=version, remove_entries=["drop"]
            )
        )
        assert dict(kept.metadata.entries) == {"owner": Payload(data=b'"team-a"')}
        info = (
            await ws.describe_worker_deployment_version(
                wsv1.DescribeWorkerDeploymentVersionRequest(
                    namespace=wd.NAMESPACE, deployment_version=version
                )
            )
        ).worker_deployment_version_info
        assert info.status == STATUS.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT
        assert [(q.name, q.type) for q in info.task_queue_infos if q.type == 1] == [(task_queue, 1)]
        assert dict(info.metadata.entries) == {"owner": Payload(data=b'"team-a"')}
        queue = await ws.describe_task_queue(
            wsv1.DescribeTaskQueueRequest(namespace=wd.NAMESPACE, task_queue=TaskQueue(name=task_queue))
        )
        assert {p.deployment_options.build_id for p in queue.pollers} == {"1.0"}

        for call, message in [
            (
                ws.delete_worker_deployment_version(
                    wsv1.DeleteWorkerDeploymentVersionRequest(
                        namespace=wd.NAMESPACE, deployment_version=version
                    )
                ),
                f"version '{deployment}:1.0' cannot be deleted since it is current or ramping",
            ),
            (
                ws.delete_worker_deployment(
                    wsv1.DeleteWorkerDeploymentRequest(namespace=wd.NAMESPACE, deployment_name=deployment)
                ),
                "deployment has versions, can't be deleted",
            ),
        ]:
            with pytest.raises(RPCError) as refused:
                await call
            assert (refused.value.status, refused.value.message) == (
                RPCStatusCode.FAILED_PRECONDITION,
                message,
            )


def _pin(deployment: str, build_id: str) -> VersioningOverride:
    return VersioningOverride(
        pinned=VersioningOverride.PinnedOverride(
            behavior=VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED,
            version=WorkerDeploymentVersion(deployment_name=deployment, build_id=build_id),
        )
    )


async def _set_options(
    client: Client, workflow_id: str, options: WorkflowExecutionOptions, *paths: str
) -> wsv1.UpdateWorkflowExecutionOptionsResponse:
    return await client.workflow_service.update_workflow_execution_options(
        wsv1.UpdateWorkflowExecutionOptionsRequest(
            namespace=wd.NAMESPACE,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            workflow_execution_options=options,
            update_mask=FieldMask(paths=list(paths)),
            identity="operator",
        )
    )


async def test_an_override_pins_a_running_workflow_until_it_is_unset(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await wd.set_current(client, deployment, "1.0")
        handle = await client.start_workflow(wd.Upgrading.run, id=workflow_id, task_queue=task_queue)
        await running_on(handle, "1.0")

        with pytest.raises(RPCError) as absent:
            await _set_options(
                client,
                workflow_id,
                WorkflowExecutionOptions(versioning_override=_pin(deployment, "7.7")),
                "versioning_override",
            )
        assert absent.value.status == RPCStatusCode.FAILED_PRECONDITION
        assert absent.value.message == (
            f"Pinned version '{deployment}:7.7' is not present in task queue '{task_queue}' of type 'Workflow'"
        )
        pinned = await _set_options(
            client,
            workflow_id,
            WorkflowExecutionOptions(versioning_override=_pin(deployment, "1.0")),
            "versioning_override",
        )
        assert pinned.workflow_execution_options.versioning_override == _pin(deployment, "1.0")
        again = await _set_options(
            client,
            workflow_id,
            WorkflowExecutionOptions(versioning_override=_pin(deployment, "1.0")),
            "versioning_override",
        )
        assert again == pinned  # the same options: nothing written

        await wd.set_current(client, deployment, "2.0")
        info = (await raw.describe(client, workflow_id)).workflow_execution_info.versioning_info
        assert info.versioning_override.pinned_version == f"{deployment}.1.0"
        await handle.signal(wd.Upgrading.finish)
        assert await handle.result() == "1.0"  # pinned: the new current did not take it

    events = await raw.history(client, workflow_id)
    updated = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED]
    assert len(updated) == 1
    assert updated[0].worker_may_ignore
    assert updated[0].workflow_execution_options_updated_event_attributes.identity == "operator"


async def test_update_options_checks_its_request_and_changes_the_priority(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await raw.start(client, workflow_id, task_queue)
    ws = client.workflow_service
    with pytest.raises(RPCError) as no_mask:
        await ws.update_workflow_execution_options(
            wsv1.UpdateWorkflowExecutionOptionsRequest(
                namespace=wd.NAMESPACE,
                workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                workflow_execution_options=WorkflowExecutionOptions(),
            )
        )
    assert (no_mask.value.status, no_mask.value.message) == (
        RPCStatusCode.INVALID_ARGUMENT,
        "UpdateMask is required",
    )
    with pytest.raises(RPCError) as bad_path:
        await _set_options(client, workflow_id, WorkflowExecutionOptions(), "foo")
    assert bad_path.value.message == (
        'error parsing UpdateMask: proto:\u00a0invalid path "foo" for message '
        '"temporal.api.workflow.v1.WorkflowExecutionOptions"'
    )
    options = WorkflowExecutionOptions()
    options.priority.priority_key = 2
    answered = await _set_options(client, workflow_id, options, "priority")
    assert answered.workflow_execution_options.priority.priority_key == 2
    assert (await raw.info(client, workflow_id)).priority.priority_key == 2


async def test_deployments_and_their_routing_survive_a_restart(tmp_path: Path, task_queue: str) -> None:
    deployment = wd.new_deployment()
    version = WorkerDeploymentVersion(deployment_name=deployment, build_id="1.0")
    async with servers.in_process(tmp_path / "cadenza.db") as server:
        client = await Client.connect(server.address)
        async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
            await wd.set_current(client, deployment, "1.0")
            await wd.set_ramping(client, deployment, "2.0", 25)
            await client.workflow_service.update_worker_deployment_version_metadata(
                wsv1.UpdateWorkerDeploymentVersionMetadataRequest(
                    namespace=wd.NAMESPACE,
                    deployment_version=version,
                    upsert_entries={"k": Payload(data=b"1")},
                )
            )
            before = await wd.describe(client, deployment)
            pinned = await client.start_workflow(wd.Pinned.run, id="pinned-across", task_queue=task_queue)
            await running_on(pinned, "1.0")
        # A run started while no worker polls waits for one of the current version.
        handle = await client.start_workflow(wd.Upgrading.run, id="after-restart", task_queue=task_queue)

    async with servers.in_process(tmp_path / "cadenza.db") as server:
        client = await Client.connect(server.address)
        after = await wd.describe(client, deployment)
        assert after == before
        info = await client.workflow_service.describe_worker_deployment_version(
            wsv1.DescribeWorkerDeploymentVersionRequest(namespace=wd.NAMESPACE, deployment_version=version)
        )
        assert dict(info.worker_deployment_version_info.metadata.entries) == {"k": Payload(data=b"1")}
        async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
            handle = client.get_workflow_handle(handle.id, result_type=str)
            await running_on(handle, "1.0")
            await wd.set_current(client, deployment, "2.0")
            # The pinned run stays on its version, for its next task and for queries.
            pinned = client.get_workflow_handle(pinned.id, result_type=str)
            assert await pinned.query("version") == "1.0"
            await pinned.signal(wd.Pinned.finish)
            assert await pinned.result() == "1.0"
            await handle.signal(wd.Upgrading.finish)
            assert await handle.result() == "2.0"


async def test_work_waiting_for_unversioned_workers_moves_to_a_version_made_current(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    async with wd.versions(client, task_queue, deployment, "1.0"):
        # No version is current yet: the run's first task waits for unversioned workers.
        handle = await client.start_workflow(wd.Upgrading.run, id=workflow_id, task_queue=task_queue)
        await wd.set_current(client, deployment, "1.0")
        await running_on(handle, "1.0")
        await handle.signal(wd.Upgrading.finish)
        assert await handle.result() == "1.0"


async def test_a_draining_or_polled_version_is_not_deleted(client: Client, task_queue: str) -> None:
    deployment = wd.new_deployment()
    version = WorkerDeploymentVersion(deployment_name=deployment, build_id="1.0")
    async with wd.versions(client, task_queue, deployment, "1.0", "2.0"):
        await wd.set_current(client, deployment, "1.0")
        await wd.set_current(client, deployment, "2.0")
        for skip_drainage, why in ((False, "it is draining"), (True, "it has active pollers")):
            with pytest.raises(RPCError) as refused:
                await client.workflow_service.delete_worker_deployment_version(
                    wsv1.DeleteWorkerDeploymentVersionRequest(
                        namespace=wd.NAMESPACE, deployment_version=version, skip_drainage=skip_drainage
                    )
                )
            assert (refused.value.status, refused.value.message) == (
                RPCStatusCode.FAILED_PRECONDITION,
                f"version '{deployment}:1.0' cannot be deleted since {why}",
            )


async def test_a_pinned_run_reaches_activity_workers_of_a_queue_outside_its_version(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    activity_queue = f"{task_queue}-activities"
    async with (
        wd.versions(client, task_queue, deployment, "1.0"),
        Worker(client, task_queue=activity_queue, activities=[wd.echo]),
    ):
        await wd.set_current(client, deployment, "1.0")
        result = await client.execute_workflow(
            wd.PinnedCaller.run, activity_queue, id=workflow_id, task_queue=task_queue
        )
        assert result == "echoed"


async def test_a_child_of_a_pinned_run_starts_on_its_parents_version(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    deployment = wd.new_deployment()
    async with wd.versions(client, task_queue, deployment, "1.0"):
        await wd.set_current(client, deployment, "1.0")
        result = await client.execute_workflow(wd.PinnedParent.run, id=workflow_id, task_queue=task_queue)
        assert result == "1.0"
    started = (await raw.history(client, f"{workflow_id}-child"))[
        0
    ].workflow_execution_started_event_attributes
    assert started.inherited_pinned_version == WorkerDeploymentVersion(
        deployment_name=deployment, build_id="1.0"
    )
    info = (await raw.describe(client, f"{workflow_id}-child")).workflow_execution_info.versioning_info
    assert info.behavior == AUTO_UPGRADE  # its own workers' behavior, once it ran
