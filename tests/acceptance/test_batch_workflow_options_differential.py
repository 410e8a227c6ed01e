"""Batches that change workflows' options, on Cadenza and on the real Temporal dev server: the
same refusals of bad requests, the same counts, and the same versioning info afterwards; and
UpdateWorkflowExecutionOptions, which each batch applies to each run, refusing and taking
overrides of every shape alike."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.json_format import MessageToDict
from temporalio.api.batch.v1 import BatchOperationUpdateWorkflowExecutionOptions
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.acceptance import batch_options as bo
from tests.acceptance.test_batch_differential import refusal

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(240),
]

MASK = FieldMask(paths=["versioning_override"])
BAD_STARTS = [
    bo.start_request(
        "j", visibility_query="WorkflowType = 'Anything'", update_workflow_options_operation=operation
    )
    for operation in (
        BatchOperationUpdateWorkflowExecutionOptions(),
        BatchOperationUpdateWorkflowExecutionOptions(update_mask=MASK),
        BatchOperationUpdateWorkflowExecutionOptions(workflow_execution_options=WorkflowExecutionOptions()),
    )
]


async def test_bad_option_batches_are_refused_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    for request in BAD_STARTS:
        ours = await refusal(in_process_client, "start_batch_operation", request)
        theirs = await refusal(temporal_client, "start_batch_operation", request)
        assert ours == theirs, request


async def test_option_batches_count_and_pin_alike(in_process_client: Client, temporal_client: Client) -> None:
    theirs = await bo.run_scenario(temporal_client)
    ours = await bo.run_scenario(in_process_client)
    assert ours == theirs


PINNED_BY_OVERRIDE = VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED
OVERRIDES = [
    VersioningOverride(),
    VersioningOverride(auto_upgrade=False),
    VersioningOverride(auto_upgrade=True),
    VersioningOverride(pinned=VersioningOverride.PinnedOverride()),
    VersioningOverride(pinned=VersioningOverride.PinnedOverride(behavior=PINNED_BY_OVERRIDE)),
    VersioningOverride(
        pinned=VersioningOverride.PinnedOverride(
            version=WorkerDeploymentVersion(deployment_name="d", build_id="b")
        )
    ),
    VersioningOverride(
        pinned=VersioningOverride.PinnedOverride(
            behavior=PINNED_BY_OVERRIDE, version=WorkerDeploymentVersion(deployment_name="d")
        )
    ),
    VersioningOverride(behavior=bo.PINNED),
    VersioningOverride(behavior=bo.PINNED, pinned_version="d.b"),
    VersioningOverride(behavior=bo.PINNED, pinned_version="d"),
    VersioningOverride(behavior=bo.PINNED, pinned_version="d."),
    VersioningOverride(behavior=bo.PINNED, pinned_version=".b"),
    VersioningOverride(behavior=bo.AUTO_UPGRADE, pinned_version="d.b"),
    VersioningOverride(behavior=bo.AUTO_UPGRADE),
]
"""Overrides of each shape, well formed or not, asked of an unversioned run."""


async def _answers(client: Client) -> list[Any]:
    workflow_id = f"overrides-{uuid.uuid4().hex[:8]}"
    await calls.start_idle(client, "Overridden", [workflow_id])
    answers: list[Any] = []
    for override in OVERRIDES:
        try:
            answer = await client.workflow_service.update_workflow_execution_options(
                wsv1.UpdateWorkflowExecutionOptionsRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                    workflow_execution_options=WorkflowExecutionOptions(versioning_override=override),
                    update_mask=MASK,
                )
            )
            answers.append(MessageToDict(answer.workflow_execution_options.versioning_override))
        except RPCError as error:
            answers.append((error.status.name, error.message.replace(workflow_id, "<id>")))
    await client.get_workflow_handle(workflow_id).terminate()
    return answers


async def test_the_single_call_refuses_and_takes_overrides_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    assert await _answers(in_process_client) == await _answers(temporal_client)
