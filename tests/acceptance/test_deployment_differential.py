"""Versioned runs beside the real Temporal dev server: a pinned run, an auto-upgrade run pinned by
UpdateWorkflowExecutionOptions, and a run started with a pinning override have the same
histories event for event on both."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import RoutingConfigUpdateState
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowHandle
from temporalio.common import PinnedVersioningOverride, WorkerDeploymentVersion

from tests import servers
from tests.acceptance import workflows_deployments as wd
from tests.acceptance.test_differential import normalize
from tests.acceptance.test_worker_deployments import _pin, running_on
from tests.helpers import eventually

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(240),
]

COMPLETED = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED
SCENARIOS = ["pinned", "pinned-by-update", "pinned-at-start"]


async def routed(client: Client, deployment: str) -> None:
    """The real server spreads a routing change to its task queues in the background."""
    info = (await wd.describe(client, deployment)).worker_deployment_info
    assert info.routing_config_update_state == COMPLETED


async def run_scenario(client: Client, scenario: str) -> list[Any]:
    deployment, task_queue = wd.new_deployment(), f"diff-{uuid.uuid4().hex[:8]}"
    workflow_id = f"diff-{uuid.uuid4().hex[:8]}"
    async with wd.versions(client, task_queue, deployment, "1.0"):
        await wd.set_current(client, deployment, "1.0")
        await eventually(lambda: routed(client, deployment))
        handle: WorkflowHandle[Any, str]
        if scenario == "pinned":
            handle = await client.start_workflow(wd.Pinned.run, id=workflow_id, task_queue=task_queue)
        elif scenario == "pinned-at-start":
            override = PinnedVersioningOverride(WorkerDeploymentVersion(deployment, "1.0"))
            handle = await client.start_workflow(
                wd.Upgrading.run, id=workflow_id, task_queue=task_queue, versioning_override=override
            )
        else:
            handle = await client.start_workflow(wd.Upgrading.run, id=workflow_id, task_queue=task_queue)
        await running_on(handle, "1.0")
        if scenario == "pinned-by-update":
            await client.workflow_service.update_workflow_execution_options(
                wsv1.UpdateWorkflowExecutionOptionsRequest(
                    namespace=wd.NAMESPACE,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                    workflow_execution_options=WorkflowExecutionOptions(
                        versioning_override=_pin(deployment, "1.0")
                    ),
                    update_mask=FieldMask(paths=["versioning_override"]),
                    identity="operator",
                )
            )
        await handle.signal("finish")
        assert await handle.result() == "1.0"
    history = await handle.fetch_history()
    events = [normalize(MessageToDict(e)) for e in history.events]
    text = json.dumps(events).replace(deployment, "<deployment>").replace(task_queue, "<queue>")
    return list(json.loads(text))


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_versioned_history_matches_real_temporal(
    client: Client, temporal_client: Client, scenario: str
) -> None:
    expected = await run_scenario(temporal_client, scenario)
    actual = await run_scenario(client, scenario)
    assert [e["eventType"] for e in actual] == [e["eventType"] for e in expected]
    for mine, theirs in zip(actual, expected, strict=True):
        assert mine == theirs
