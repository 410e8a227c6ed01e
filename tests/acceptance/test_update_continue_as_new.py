"""An update its run leaves unaccepted when it continues as new reaches the successor run.

The waiting caller gets the error Temporal gives then, one the SDK retries: a
caller that named no run is retried onto the new run, one that named the old
run then learns it completed.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    ResourceExhaustedCause,
    UpdateWorkflowExecutionLifecycleStage,
    WorkflowExecutionStatus,
)
from temporalio.api.errordetails.v1 import ResourceExhaustedFailure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from tests.acceptance import raw_calls as raw

ACCEPTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED


async def raw_update(
    client: Client, workflow_id: str, run_id: str = ""
) -> wsv1.UpdateWorkflowExecutionResponse:
    """One update request, not retried, waiting until the update is accepted."""
    request = wsv1.UpdateWorkflowExecutionRequest(
        namespace=raw.NAMESPACE,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
    )
    request.request.meta.update_id = "bump-1"
    request.request.meta.identity = raw.IDENTITY
    request.request.input.name = "bump"
    request.wait_policy.lifecycle_stage = ACCEPTED
    return await client.workflow_service.update_workflow_execution(request, retry=False)


async def refusal_when_continued(client: Client, workflow_id: str, task_queue: str, *, pin: bool) -> RPCError:
    run_id = (await raw.start(client, workflow_id, task_queue)).run_id
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task)
    updating = asyncio.create_task(raw_update(client, workflow_id, run_id if pin else ""))
    task = await raw.poll_workflow_task(client, task_queue)
    assert [m.protocol_instance_id for m in task.messages] == ["bump-1"]
    await raw.complete_workflow_task(client, task, commands=[raw.continue_as_new()])
    with pytest.raises(RPCError) as refused:
        await updating
    return refused.value


@pytest.mark.parametrize("pin", [False, True], ids=["current-run", "named-run"])
async def test_an_update_left_unaccepted_by_continue_as_new_is_refused_as_retryable(
    client: Client, workflow_id: str, task_queue: str, pin: bool
) -> None:
    error = await refusal_when_continued(client, workflow_id, task_queue, pin=pin)
    assert error.status == RPCStatusCode.RESOURCE_EXHAUSTED
    assert error.message == "workflow operation can not be applied because workflow is closing"
    detail = ResourceExhaustedFailure()
    assert error.grpc_status.details[0].Unpack(detail)
    assert detail.cause == ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW


async def test_the_same_update_sent_again_to_the_continued_run_finds_it_completed(
    client: Client, workflow_id: str, task_queue: str
) -> None:
    await refusal_when_continued(client, workflow_id, task_queue, pin=True)
    described = await raw.describe(client, workflow_id)
    assert (
        described.workflow_execution_info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    )
    old_run = described.workflow_execution_info.first_run_id
    with pytest.raises(RPCError) as refused:
        await raw_update(client, workflow_id, old_run)
    assert refused.value.status == RPCStatusCode.NOT_FOUND
    assert refused.value.message == "workflow execution already completed"


async def test_an_sdk_update_pending_at_continue_as_new_completes_on_the_new_run(
    client: Client, workflow_id: str, task_queue: str
) -> None:
    first_run = (await raw.start(client, workflow_id, task_queue)).run_id
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task)
    handle = client.get_workflow_handle(workflow_id)
    updating = asyncio.create_task(
        handle.start_update("bump", id="bump-1", wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    )
    task = await raw.poll_workflow_task(client, task_queue)
    await raw.complete_workflow_task(client, task, commands=[raw.continue_as_new()])
    task = await raw.poll_workflow_task(client, task_queue)  # the new run's first task
    if not task.messages:  # the retried update arrived after that task was handed out
        await raw.complete_workflow_task(client, task)
        task = await raw.poll_workflow_task(client, task_queue)
    assert task.workflow_execution.run_id != first_run
    await raw.complete_workflow_task(client, task, messages=raw.accept_and_complete_updates(task))
    update = await updating
    assert update.workflow_run_id == task.workflow_execution.run_id
    await update.result()
