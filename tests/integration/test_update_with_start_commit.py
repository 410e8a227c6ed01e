"""Update-with-start writes a new run and its update in one commit.

A worker may take the new run's first workflow task the moment it is written;
were the update admitted in a second commit, a workflow that completes at once
could close before the update arrives, and the caller would be told the run is
gone. Written together, the first workflow task always carries the update.
"""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.errordetails.v1 import MultiOperationExecutionFailure
from temporalio.api.workflowservice.v1 import ExecuteMultiOperationRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cadenza.persistence.records import ExecutionWrite
from tests.acceptance.raw_calls import NAMESPACE, start_request
from tests.servers import InProcessServer

ADMITTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED


def update_with_start(workflow_id: str, task_queue: str, update_id: str) -> ExecuteMultiOperationRequest:
    request = ExecuteMultiOperationRequest(namespace=NAMESPACE)
    request.operations.add().start_workflow.CopyFrom(start_request(workflow_id, task_queue))
    update = request.operations.add().update_workflow
    update.namespace = NAMESPACE
    update.workflow_execution.workflow_id = workflow_id
    update.request.meta.update_id = update_id
    update.request.input.name = "bump"
    update.wait_policy.lifecycle_stage = ADMITTED
    return request


async def test_the_new_run_and_its_update_are_one_write(
    in_process_server: InProcessServer, monkeypatch: pytest.MonkeyPatch, workflow_id: str, task_queue: str
) -> None:
    store = in_process_server.server._store
    commit = store.commit
    writes: list[ExecutionWrite] = []

    async def recording(write: ExecutionWrite, *more: ExecutionWrite) -> None:
        writes.append(write)
        await commit(write, *more)

    monkeypatch.setattr(store, "commit", recording)
    client = await Client.connect(in_process_server.address)
    response = await client.workflow_service.execute_multi_operation(
        update_with_start(workflow_id, task_queue, "u1")
    )
    assert response.responses[0].start_workflow.started
    assert response.responses[1].update_workflow.stage == ADMITTED
    assert [w.key.workflow_id for w in writes] == [workflow_id]


async def test_an_invalid_update_starts_nothing(
    in_process_client: Client, workflow_id: str, task_queue: str
) -> None:
    with pytest.raises(RPCError) as refused:
        await in_process_client.workflow_service.execute_multi_operation(
            update_with_start(workflow_id, task_queue, update_id="")
        )
    assert refused.value.status == RPCStatusCode.INVALID_ARGUMENT
    failure = MultiOperationExecutionFailure()
    assert refused.value.grpc_status.details[0].Unpack(failure)
    assert [s.code for s in failure.statuses] == [
        RPCStatusCode.ABORTED.value,
        RPCStatusCode.INVALID_ARGUMENT.value,
    ]
    with pytest.raises(RPCError) as missing:
        await in_process_client.get_workflow_handle(workflow_id).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
