"""Helpers for the batch operation tests: workflows started cheaply on a queue nobody polls,
batches started and awaited through the raw WorkflowService calls."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.api.common.v1 import WorkflowType
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests.helpers import eventually

UNPOLLED = "nobody-polls"
RUNNING = BatchOperationState.BATCH_OPERATION_STATE_RUNNING


async def start_idle(client: Client, workflow_type: str, ids: list[str], at_once: int = 100) -> None:
    """Start one workflow per ID on a queue no worker polls: each waits, at the cost of a start."""
    service = client.workflow_service
    for first in range(0, len(ids), at_once):
        await asyncio.gather(
            *(
                service.start_workflow_execution(
                    wsv1.StartWorkflowExecutionRequest(
                        namespace=client.namespace,
                        workflow_id=workflow_id,
                        workflow_type=WorkflowType(name=workflow_type),
                        task_queue=TaskQueue(name=UNPOLLED),
                        request_id=str(uuid.uuid4()),
                    )
                )
                for workflow_id in ids[first : first + at_once]
            )
        )


async def describe(client: Client, job_id: str) -> wsv1.DescribeBatchOperationResponse:
    return await client.workflow_service.describe_batch_operation(
        wsv1.DescribeBatchOperationRequest(namespace=client.namespace, job_id=job_id)
    )


async def finished(client: Client, job_id: str, timeout: float = 60) -> wsv1.DescribeBatchOperationResponse:
    """The batch's description once it is no longer running."""

    async def closed() -> wsv1.DescribeBatchOperationResponse:
        described = await describe(client, job_id)
        assert described.state != RUNNING
        return described

    return await eventually(closed, timeout=timeout)


async def count(client: Client, query: str) -> int:
    counted = await client.workflow_service.count_workflow_executions(
        wsv1.CountWorkflowExecutionsRequest(namespace=client.namespace, query=query)
    )
    return int(counted.count)


async def eventually_counted(client: Client, query: str, expected: int) -> None:
    """Wait until the filter counts ``expected`` runs (a listing may trail a change)."""

    async def counted() -> None:
        assert await count(client, query) == expected

    await eventually(counted)
