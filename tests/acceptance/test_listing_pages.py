"""The listings paged by an offset token: schedules and batch operations, page by page."""

from __future__ import annotations

import pytest
from temporalio.api.batch.v1 import BatchOperationTermination
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from tests.acceptance import batch_calls as calls


async def test_schedules_come_page_by_page_and_a_bad_token_is_refused(in_process_client: Client) -> None:
    client = in_process_client
    paused = Schedule(
        action=ScheduleActionStartWorkflow("Never", id="never", task_queue="none"),
        spec=ScheduleSpec(),
        state=ScheduleState(paused=True),
    )
    for name in ("s1", "s2", "s3"):
        await client.create_schedule(name, paused)
    seen: list[str] = []
    token = b""
    while True:
        page = await client.workflow_service.list_schedules(
            wsv1.ListSchedulesRequest(namespace="default", maximum_page_size=2, next_page_token=token)
        )
        seen += [entry.schedule_id for entry in page.schedules]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == ["s1", "s2", "s3"]
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.list_schedules(
            wsv1.ListSchedulesRequest(namespace="default", next_page_token=b'{"offset": -2}')
        )
    assert (refused.value.status, refused.value.message) == (
        RPCStatusCode.INVALID_ARGUMENT,
        "Invalid NextPageToken.",
    )


async def test_batches_come_page_by_page_and_a_bad_token_is_refused(in_process_client: Client) -> None:
    client = in_process_client
    for job_id in ("b1", "b2", "b3"):
        await client.workflow_service.start_batch_operation(
            wsv1.StartBatchOperationRequest(
                namespace="default",
                job_id=job_id,
                visibility_query="WorkflowType = 'Nothing'",
                reason="paged",
                termination_operation=BatchOperationTermination(),
            )
        )
        await calls.finished(client, job_id)
    first = await client.workflow_service.list_batch_operations(
        wsv1.ListBatchOperationsRequest(namespace="default", page_size=2)
    )
    second = await client.workflow_service.list_batch_operations(
        wsv1.ListBatchOperationsRequest(
            namespace="default", page_size=2, next_page_token=first.next_page_token
        )
    )
    listed = [info.job_id for info in [*first.operation_info, *second.operation_info]]
    assert sorted(listed) == ["b1", "b2", "b3"] and not second.next_page_token
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.list_batch_operations(
            wsv1.ListBatchOperationsRequest(namespace="default", next_page_token=b"not json")
        )
    assert refused.value.status == RPCStatusCode.INVALID_ARGUMENT
