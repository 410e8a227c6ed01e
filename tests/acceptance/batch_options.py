"""Batches that change workflows' options: a scenario on versioned workers, run the same way on
Cadenza and on the real Temporal dev server, that reports what each batch counted and the
versioning info every workflow ends with."""

from __future__ import annotations

import json
import uuid
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.json_format import MessageToDict
from temporalio.api.batch.v1 import BatchOperationUpdateWorkflowExecutionOptions
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import RoutingConfigUpdateState, VersioningBehavior
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests.acceptance import batch_calls as calls
from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_deployments as wd
from tests.acceptance.test_worker_deployments import running_on
from tests.helpers import eventually

PIN = VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED
COMPLETED = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED
PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
AUTO_UPGRADE = VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE


def override_op(
    override: VersioningOverride | None, paths: tuple[str, ...] = ("versioning_override",)
) -> BatchOperationUpdateWorkflowExecutionOptions:
    """The operation that sets ``override`` (None: removes the run's) on every target."""
    options = WorkflowExecutionOptions(versioning_override=override)
    return BatchOperationUpdateWorkflowExecutionOptions(
        workflow_execution_options=options, update_mask=FieldMask(paths=list(paths)), identity="batcher"
    )


def pinned(deployment: str = "", build_id: str = "") -> VersioningOverride:
    """A pinning override; without a build ID, one that names no version."""
    pin = VersioningOverride.PinnedOverride(behavior=PIN)
    if build_id:
        pin.version.CopyFrom(WorkerDeploymentVersion(deployment_name=deployment, build_id=build_id))
    return VersioningOverride(pinned=pin)


def start_request(job_id: str, **fields: Any) -> wsv1.StartBatchOperationRequest:
    return wsv1.StartBatchOperationRequest(namespace=wd.NAMESPACE, job_id=job_id, reason="options", **fields)


async def run_batch(client: Client, request: wsv1.StartBatchOperationRequest) -> tuple[int, int, int, int]:
    """Run one batch to its end: its operation type and its total, done and failed counts."""
    await client.workflow_service.start_batch_operation(request)
    d = await calls.finished(client, request.job_id)
    return d.operation_type, d.total_operation_count, d.complete_operation_count, d.failure_operation_count


async def routed(client: Client, deployment: str) -> None:
    """The real server spreads a routing change to its task queues in the background."""
    info = (await wd.describe(client, deployment)).worker_deployment_info
    assert info.routing_config_update_state == COMPLETED


async def versioning_of(client: Client, workflow_id: str) -> dict[str, Any]:
    info = (await raw.info(client, workflow_id)).versioning_info
    return MessageToDict(info)


class Scenario:
    """Two pinned and two auto-upgrading runs on one version, and batches over them."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.tag = uuid.uuid4().hex[:8]
        self.deployment = wd.new_deployment()
        self.task_queue = f"tq-{self.tag}"
        self.pinned_ids = [f"{self.tag}-pinned-{i}" for i in range(2)]
        self.upgrading_ids = [f"{self.tag}-upgrading-{i}" for i in range(2)]
        self.query = f"WorkflowId STARTS_WITH '{self.tag}-'"

    async def start_runs(self) -> None:
        await wd.set_current(self.client, self.deployment, "1.0")
        await eventually(lambda: routed(self.client, self.deployment))
        for ids, run in ((self.pinned_ids, wd.Pinned.run), (self.upgrading_ids, wd.Upgrading.run)):
            for workflow_id in ids:
                handle = await self.client.start_workflow(run, id=workflow_id, task_queue=self.task_queue)
                await running_on(handle, "1.0")
        await calls.eventually_counted(self.client, self.query, 4)

    async def batch(self, job: str, op: BatchOperationUpdateWorkflowExecutionOptions, *ids: str) -> Any:
        """Run ``op`` on the runs ``ids`` names, or on all four by a query."""
        job_id = f"{job}-{self.tag}"
        if ids:
            executions = [WorkflowExecution(workflow_id=i) for i in ids]
            request = start_request(job_id, executions=executions, update_workflow_options_operation=op)
        else:
            request = start_request(job_id, visibility_query=self.query, update_workflow_options_operation=op)
        return await run_batch(self.client, request)

    async def versioning(self) -> list[Any]:
        """Every run's versioning info, the deployment's name replaced by a placeholder."""
        shown = [await versioning_of(self.client, i) for i in self.pinned_ids + self.upgrading_ids]
        return list(json.loads(json.dumps(shown).replace(self.deployment, "<deployment>")))

    async def terminate(self) -> None:
        for workflow_id in self.pinned_ids + self.upgrading_ids:
            await self.client.get_workflow_handle(workflow_id).terminate()


async def run_scenario(client: Client) -> list[Any]:
    """What each batch counted and the versioning info it left, in order."""
    s = Scenario(client)
    seen: list[Any] = []
    async with wd.versions(client, s.task_queue, s.deployment, "1.0"):
        await s.start_runs()
        seen.append(await s.batch("absent", override_op(pinned(s.deployment, "7.7"))))
        seen.append(await s.batch("in-place", override_op(pinned())))
        seen.append(await s.versioning())
        seen.append(await s.batch("pin", override_op(pinned(s.deployment, "1.0")), *s.upgrading_ids))
        seen.append(
            await s.batch("upgrade", override_op(VersioningOverride(auto_upgrade=True)), s.pinned_ids[0])
        )
        seen.append(await s.versioning())
        seen.append(await s.batch("no-mask", override_op(None, paths=())))
        seen.append(await s.batch("unset", override_op(None), *s.pinned_ids))
        seen.append(await s.versioning())
        await s.terminate()
    return seen
