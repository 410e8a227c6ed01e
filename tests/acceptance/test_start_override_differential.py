"""Starts with a versioning override, on Cadenza and on the real Temporal dev server: overrides of
every shape, given to StartWorkflowExecution and to SignalWithStart, are refused or taken alike,
a refused start leaves no run behind, and a run pinned at its start to a version that polls its
task queue shows the same versioning info."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import VersioningOverride
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers
from tests.acceptance import batch_options as bo
from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_deployments as wd
from tests.acceptance.test_batch_workflow_options_differential import OVERRIDES
from tests.helpers import eventually

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(240),
]

UNPOLLED = "nobody-polls-starts"


def _start(
    workflow_id: str, task_queue: str, override: VersioningOverride
) -> wsv1.StartWorkflowExecutionRequest:
    return wsv1.StartWorkflowExecutionRequest(
        namespace=wd.NAMESPACE,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="Pinned"),
        task_queue=TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
        versioning_override=override,
    )


def _signal_with_start(
    workflow_id: str, task_queue: str, override: VersioningOverride
) -> wsv1.SignalWithStartWorkflowExecutionRequest:
    return wsv1.SignalWithStartWorkflowExecutionRequest(
        namespace=wd.NAMESPACE,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="Pinned"),
        task_queue=TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
        signal_name="poke",
        versioning_override=override,
    )


async def _answer(client: Client, workflow_id: str, task_queue: str, override: VersioningOverride) -> Any:
    """How the server answers each kind of start with ``override``: the refusal, or the
    versioning info the new run shows; and whether a refused start left a run behind."""
    answers: list[Any] = []
    service = client.workflow_service
    for kind, call in (
        ("start", lambda i: service.start_workflow_execution(_start(i, task_queue, override))),
        (
            "signal-with-start",
            lambda i: service.signal_with_start_workflow_execution(
                _signal_with_start(i, task_queue, override)
            ),
        ),
    ):
        run_id = f"{workflow_id}-{kind}"
        try:
            await call(run_id)
        except RPCError as error:
            answers.append((kind, error.status.name, error.message, await _left_behind(client, run_id)))
            continue
        versioning = (await raw.info(client, run_id)).versioning_info
        answers.append((kind, MessageToDict(versioning)))
        await client.get_workflow_handle(run_id).terminate()
    return answers


async def _left_behind(client: Client, workflow_id: str) -> bool:
    try:
        await raw.describe(client, workflow_id)
    except RPCError as error:
        assert error.status.name == "NOT_FOUND", error
        return False
    return True


async def _unpolled_answers(client: Client) -> list[Any]:
    tag = uuid.uuid4().hex[:8]
    return [
        await _answer(client, f"start-override-{tag}-{number}", UNPOLLED, override)
        for number, override in enumerate(OVERRIDES)
    ]


async def test_starts_refuse_and_take_overrides_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    assert await _unpolled_answers(in_process_client) == await _unpolled_answers(temporal_client)


async def _polled_answers(client: Client) -> list[Any]:
    """Starts pinned to a version of a deployment that polls the queue, and to one that does not."""
    tag = uuid.uuid4().hex[:8]
    deployment, task_queue = wd.new_deployment(), f"tq-{tag}"
    shapes = [
        bo.pinned(deployment, "1.0"),
        bo.pinned(deployment, "7.7"),
        VersioningOverride(behavior=bo.PINNED, pinned_version=f"{deployment}.1.0"),
        VersioningOverride(behavior=bo.PINNED, pinned_version=f"{deployment}.7.7"),
        VersioningOverride(
            pinned=VersioningOverride.PinnedOverride(
                behavior=bo.PIN, version=WorkerDeploymentVersion(deployment_name=deployment)
            )
        ),
    ]
    async with wd.versions(client, task_queue, deployment, "1.0"):
        await wd.set_current(client, deployment, "1.0")
        await eventually(lambda: bo.routed(client, deployment))
        answers = [
            await _answer(client, f"start-pinned-{tag}-{number}", task_queue, override)
            for number, override in enumerate(shapes)
        ]
    return list(json.loads(json.dumps(answers).replace(deployment, "<deployment>").replace(tag, "<tag>")))


async def test_starts_pinned_to_a_version_are_checked_alike(
    in_process_client: Client, temporal_client: Client
) -> None:
    assert await _polled_answers(in_process_client) == await _polled_answers(temporal_client)
