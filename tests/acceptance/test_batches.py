"""Batch operations through the raw WorkflowService calls, on workflows the SDK runs: each
operation by filter or by list, stopping a batch, listing them, and the limit on batches
running at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.batch.v1 import (
    BatchOperationCancellation,
    BatchOperationDeletion,
    BatchOperationReset,
    BatchOperationSignal,
    BatchOperationTermination,
)
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import BatchOperationState, BatchOperationType, ResetType
from temporalio.api.errordetails.v1 import ResourceExhaustedFailure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, eventually, worker_for

COMPLETED = BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
FAILED = BatchOperationState.BATCH_OPERATION_STATE_FAILED


@pytest.fixture
async def mailboxes(
    in_process_client: Client, task_queue: str
) -> AsyncIterator[list[WorkflowHandle[Any, Any]]]:
    """Three Mailbox workflows running on this test's queue, their worker polling."""
    async with worker_for(in_process_client, task_queue, Registered([wm.Mailbox])):
        yield [
            await in_process_client.start_workflow(
                wm.Mailbox.run, id=f"mailbox-{i}-{task_queue}", task_queue=task_queue
            )
            for i in range(3)
        ]


def _start(job_id: str, query: str = "", **operation: Any) -> wsv1.StartBatchOperationRequest:
    return wsv1.StartBatchOperationRequest(
        namespace="default", job_id=job_id, visibility_query=query, reason="tested", **operation
    )


def _mailbox_query(task_queue: str) -> str:
    return f"WorkflowType = 'Mailbox' AND TaskQueue = '{task_queue}'"


async def test_signal_reaches_each_running_workflow_once(
    in_process_client: Client, mailboxes: list[WorkflowHandle[Any, Any]], task_queue: str
) -> None:
    client = in_process_client
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps("hello").encode())
    signal = BatchOperationSignal(signal="deliver", input=Payloads(payloads=[payload]), identity="signaller")
    await client.workflow_service.start_batch_operation(
        _start("signal-all", _mailbox_query(task_queue), signal_operation=signal)
    )
    described = await calls.finished(client, "signal-all")
    assert described.state == COMPLETED
    assert described.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_SIGNAL_WORKFLOW
    assert (described.total_operation_count, described.complete_operation_count) == (3, 3)
    assert (described.identity, described.reason) == ("signaller", "tested")
    for handle in mailboxes:
        await eventually(lambda h=handle: _holds_one(h))  # type: ignore[misc]
        history = await handle.fetch_history()
        signaled = [e for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")]
        assert [e.workflow_execution_signaled_event_attributes.identity for e in signaled] == ["signaller"]


async def _holds_one(handle: WorkflowHandle[Any, Any]) -> None:
    assert await handle.query(wm.Mailbox.count) == 1


async def test_cancel_by_filter_cancels_running_workflows(
    in_process_client: Client, mailboxes: list[WorkflowHandle[Any, Any]], task_queue: str
) -> None:
    cancellation = BatchOperationCancellation(identity="canceller")
    await in_process_client.workflow_service.start_batch_operation(
        _start("cancel-all", _mailbox_query(task_queue), cancellation_operation=cancellation)
    )
    assert (await calls.finished(in_process_client, "cancel-all")).complete_operation_count == 3
    for handle in mailboxes:

        async def cancelled(h: WorkflowHandle[Any, Any] = handle) -> None:
            assert (await h.describe()).status == WorkflowExecutionStatus.CANCELED

        await eventually(cancelled)


async def test_terminate_by_list_counts_closed_and_missing_ones_as_done(
    in_process_client: Client, mailboxes: list[WorkflowHandle[Any, Any]]
) -> None:
    client = in_process_client
    await mailboxes[0].terminate("before the batch")
    executions = [WorkflowExecution(workflow_id=h.id) for h in mailboxes]
    executions.append(WorkflowExecution(workflow_id="no-such-workflow"))
    termination = BatchOperationTermination(identity="terminator")
    await client.workflow_service.start_batch_operation(
        _start("terminate-list", executions=executions, termination_operation=termination)
    )
    described = await calls.finished(client, "terminate-list")
    assert (described.total_operation_count, described.complete_operation_count) == (4, 4)
    assert [e.business_id for e in described.executions] == [e.workflow_id for e in executions]
    assert described.query == ""
    for handle in mailboxes:
        assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    events = (await mailboxes[1].fetch_history()).events
    terminated = events[-1].workflow_execution_terminated_event_attributes
    assert (terminated.reason, terminated.identity) == ("tested", "terminator")


async def test_delete_by_filter_removes_the_workflows(
    in_process_client: Client, mailboxes: list[WorkflowHandle[Any, Any]], task_queue: str
) -> None:
    await in_process_client.workflow_service.start_batch_operation(
        _start("delete-all", _mailbox_query(task_queue), deletion_operation=BatchOperationDeletion())
    )
    assert (await calls.finished(in_process_client, "delete-all")).complete_operation_count == 3
    assert await calls.count(in_process_client, _mailbox_query(task_queue)) == 0


async def test_reset_to_the_last_workflow_task_starts_a_new_run(
    in_process_client: Client, mailboxes: list[WorkflowHandle[Any, Any]], task_queue: str
) -> None:
    handle = mailboxes[0]
    await handle.signal(wm.Mailbox.deliver, "kept")
    await eventually(lambda: handle.query(wm.Mailbox.count))
    reset = BatchOperationReset(identity="resetter", reset_type=ResetType.RESET_TYPE_LAST_WORKFLOW_TASK)
    executions = [WorkflowExecution(workflow_id=handle.id)]
    await in_process_client.workflow_service.start_batch_operation(
        _start("reset-one", executions=executions, reset_operation=reset)
    )
    described = await calls.finished(in_process_client, "reset-one")
    assert (described.complete_operation_count, described.failure_operation_count) == (1, 0)
    current = await in_process_client.get_workflow_handle(handle.id).describe()
    assert current.run_id != handle.result_run_id
    assert current.status == WorkflowExecutionStatus.RUNNING


async def test_stop_leaves_a_batch_failed_where_it_was(in_process_client: Client) -> None:
    client = in_process_client
    ids = [f"slow-{uuid.uuid4().hex[:8]}-{i}" for i in range(30)]
    await calls.start_idle(client, "SlowTarget", ids)
    request = _start("slow", "WorkflowType = 'SlowTarget'", signal_operation=BatchOperationSignal(signal="x"))
    request.max_operations_per_second = 5
    await client.workflow_service.start_batch_operation(request)
    await eventually(lambda: _done_some(client, "slow"))
    listed = await client.workflow_service.list_batch_operations(
        wsv1.ListBatchOperationsRequest(namespace="default")
    )
    assert [(o.job_id, o.state) for o in listed.operation_info] == [("slow", calls.RUNNING)]
    await client.workflow_service.stop_batch_operation(
        wsv1.StopBatchOperationRequest(namespace="default", job_id="slow", reason="enough", identity="me")
    )
    described = await calls.describe(client, "slow")
    assert described.state == FAILED
    assert described.HasField("close_time")
    assert 0 < described.complete_operation_count < 30
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.stop_batch_operation(
            wsv1.StopBatchOperationRequest(namespace="default", job_id="slow", reason="again")
        )
    assert (refused.value.status, refused.value.message) == (
        RPCStatusCode.NOT_FOUND,
        "workflow execution already completed",
    )
    stopped_at = await _signaled(client, ids)
    await asyncio.sleep(1.0)
    assert await _signaled(client, ids) == stopped_at  # nothing more after the stop
    assert (
        await calls.describe(client, "slow")
    ).complete_operation_count == described.complete_operation_count
    # Signals in flight when it stopped land uncounted, as a stopped Temporal batch's last count lags.
    assert described.complete_operation_count <= stopped_at < 30


async def _signaled(client: Client, ids: list[str]) -> int:
    histories = await asyncio.gather(*(client.get_workflow_handle(i).fetch_history() for i in ids))
    return sum(len(h.events) == 3 for h in histories)


async def _done_some(client: Client, job_id: str) -> None:
    assert (await calls.describe(client, job_id)).complete_operation_count >= 2


async def test_batches_run_at_once_up_to_the_namespace_limit() -> None:
    async with servers.in_process(
        dynamic_config={"frontend.MaxConcurrentBatchOperationPerNamespace": 1}
    ) as server:
        client = await Client.connect(server.address)
        await calls.start_idle(client, "Limited", [f"limited-{i}" for i in range(10)])
        first = _start("first", "WorkflowType = 'Limited'", signal_operation=BatchOperationSignal(signal="x"))
        first.max_operations_per_second = 2
        await client.workflow_service.start_batch_operation(first)
        second = _start(
            "second", "WorkflowType = 'Limited'", signal_operation=BatchOperationSignal(signal="x")
        )
        with pytest.raises(RPCError) as refused:
            await client.workflow_service.start_batch_operation(second)
        assert refused.value.status == RPCStatusCode.RESOURCE_EXHAUSTED
        assert refused.value.message == "Max concurrent batch operations is reached"
        detail = ResourceExhaustedFailure()
        assert refused.value.grpc_status.details[0].Unpack(detail)
        assert (detail.cause, detail.scope) == (2, 1)  # concurrent limit, namespace
