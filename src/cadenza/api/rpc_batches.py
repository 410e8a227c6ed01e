"""Batch operation RPCs: start, describe, list and stop, served by ``cadenza.batches``."""

from __future__ import annotations

from typing import Any

from temporalio.api.batch.v1 import BatchOperationInfo
from temporalio.api.common.v1 import Execution
from temporalio.api.enums.v1 import ExecutionType
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.page_tokens import offset_of, token_for
from cadenza.batches.service import BatchService
from cadenza.history.machine import events as ev
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.batch_records import StoredBatch
from cadenza.visibility.service import MAX_PAGE_SIZE


class BatchRpcs:
    """StartBatchOperation, DescribeBatchOperation, ListBatchOperations, StopBatchOperation."""

    def __init__(self, *, namespaces: NamespaceRegistry, batches: BatchService) -> None:
        self._namespaces = namespaces
        self._batches = batches

    @translated
    async def StartBatchOperation(
        self, request: wsv1.StartBatchOperationRequest, context: Any
    ) -> wsv1.StartBatchOperationResponse:
        namespace = await self._namespaces.get(request.namespace)
        await self._batches.start(namespace, request)
        return wsv1.StartBatchOperationResponse()

    @translated
    async def DescribeBatchOperation(
        self, request: wsv1.DescribeBatchOperationRequest, context: Any
    ) -> wsv1.DescribeBatchOperationResponse:
        namespace = await self._namespaces.get(request.namespace)
        batch = await self._batches.describe(namespace, request.job_id)
        return _described(batch)

    @translated
    async def ListBatchOperations(
        self, request: wsv1.ListBatchOperationsRequest, context: Any
    ) -> wsv1.ListBatchOperationsResponse:
        namespace = await self._namespaces.get(request.namespace)
        size = request.page_size if 0 < request.page_size <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
        offset = offset_of(request.next_page_token)
        batches = await self._batches.list(namespace, size, offset)
        response = wsv1.ListBatchOperationsResponse(operation_info=[_info(b) for b in batches])
        if len(batches) == size:
            response.next_page_token = token_for(offset + size)
        return response

    @translated
    async def StopBatchOperation(
        self, request: wsv1.StopBatchOperationRequest, context: Any
    ) -> wsv1.StopBatchOperationResponse:
        namespace = await self._namespaces.get(request.namespace)
        await self._batches.stop_batch(namespace, request.job_id, request.reason)
        return wsv1.StopBatchOperationResponse()


def _info(batch: StoredBatch) -> BatchOperationInfo:
    info = BatchOperationInfo(
        job_id=batch.job_id,
        state=batch.state,  # type: ignore[arg-type]
        operation_type=batch.operation_type,  # type: ignore[arg-type]
    )
    info.start_time.CopyFrom(ev.timestamp(batch.start_time))
    if batch.close_time is not None:
        info.close_time.CopyFrom(ev.timestamp(batch.close_time))
    return info


def _described(batch: StoredBatch) -> wsv1.DescribeBatchOperationResponse:
    request = wsv1.StartBatchOperationRequest.FromString(batch.request)
    p = batch.progress
    response = wsv1.DescribeBatchOperationResponse(
        operation_type=batch.operation_type,  # type: ignore[arg-type]
        job_id=batch.job_id,
        state=batch.state,  # type: ignore[arg-type]
        total_operation_count=p.total,
        complete_operation_count=p.succeeded,
        failure_operation_count=p.failed,
        identity=batch.identity,
        reason=batch.reason,
        query=request.visibility_query,
        executions=[
            Execution(type=ExecutionType.EXECUTION_TYPE_WORKFLOW, business_id=e.workflow_id, run_id=e.run_id)
            for e in request.executions
        ]
        + list(request.target_executions),
    )
    response.start_time.CopyFrom(ev.timestamp(batch.start_time))
    if batch.close_time is not None:
        response.close_time.CopyFrom(ev.timestamp(batch.close_time))
    return response
