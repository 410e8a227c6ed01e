"""Standalone Nexus operation RPCs: StartNexusOperationExecution, Describe/Poll (long polls),
List, Count, RequestCancel, Terminate and Delete of operations started without a workflow."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from temporalio.api.enums.v1 import NexusOperationWaitStage
from temporalio.api.nexus.v1 import NexusOperationExecutionListInfo
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api import standalone_calls as calls
from cadenza.api.errors import translated
from cadenza.api.lookups import search_attribute_rules
from cadenza.api.requests import check_blob
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import events as ev
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus.endpoints import NexusEndpoints
from cadenza.nexus.standalone_operations import StandaloneNexusOperations
from cadenza.persistence.records import StoredStandaloneActivity
from cadenza.persistence.standalone_sql import ACTIVITY_COLUMNS
from cadenza.standalone import nexus_operation_rows
from cadenza.standalone import nexus_state as state
from cadenza.standalone.nexus_state import Operation, Record
from cadenza.visibility import filters, validation
from cadenza.visibility import query as q

_COLUMNS = {"OperationId": "ActivityId", "Endpoint": "TaskQueue"}
"""Operation attributes by the standalone runs' columns that hold them."""
NEXUS_COLUMNS = {name: ACTIVITY_COLUMNS[column] for name, column in _COLUMNS.items()} | {
    name: ACTIVITY_COLUMNS[name] for name in ("RunId", "ExecutionStatus", "StartTime", "CloseTime")
}
CLOSED = NexusOperationWaitStage.NEXUS_OPERATION_WAIT_STAGE_CLOSED
_STATUS_NAMES_BY_NUMBER = {
    number: state.STATUS_NAMES[status] for status, number in state.WORKFLOW_STATUS.items()
}
"""An operation's status name by the number the list filters give it."""


class StandaloneNexusRpcs:
    """Standalone Nexus operations, from start to delete."""

    def __init__(
        self,
        *,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        endpoints: NexusEndpoints,
        operations: StandaloneNexusOperations,
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._endpoints = endpoints
        self._operations = operations

    @translated
    async def StartNexusOperationExecution(
        self, request: wsv1.StartNexusOperationExecutionRequest, context: Any
    ) -> wsv1.StartNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _check_start(request)
        check_blob(request.input.ByteSize(), self._config)
        validation.check(request.search_attributes, search_attribute_rules(namespace, self._config.limits))
        endpoint = await self._endpoints.by_name(request.endpoint)
        if endpoint is None:
            raise NotFoundError(f"could not find Nexus endpoint by name: {request.endpoint}")
        request_id = request.request_id or str(uuid.uuid4())
        record = Record(_new_operation(request, request_id), namespace.name, endpoint.record.endpoint_id)
        types = NamespaceRegistry.search_attribute_types(namespace)
        run_id, started = await self._operations.start(
            record,
            namespace.id,
            request_id,
            request.id_reuse_policy,
            request.id_conflict_policy,
            calls.search_json(request.search_attributes, types),
        )
        return wsv1.StartNexusOperationExecutionResponse(run_id=run_id, started=started)

    @translated
    async def DescribeNexusOperationExecution(
        self, request: wsv1.DescribeNexusOperationExecutionRequest, context: Any
    ) -> wsv1.DescribeNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        given = request.long_poll_token
        stored, record = await self._load_when(
            namespace.id,
            request,
            lambda stored, _: not given or given != _version_token(stored),
            calls.wait_seconds(context, calls.DESCRIBE_LONG_POLL_SECONDS),
        )
        token = _version_token(stored)
        response = wsv1.DescribeNexusOperationExecutionResponse()
        response.CopyFrom(record.operation)
        response.long_poll_token = token
        response.info.state_transition_count = stored.version
        response.info.state_size_bytes = record.operation.ByteSize()
        if not request.include_input:
            response.ClearField("input")
        if not request.include_outcome:
            response.ClearField("result")
            response.ClearField("failure")
        return response

    @translated
    async def PollNexusOperationExecution(
        self, request: wsv1.PollNexusOperationExecutionRequest, context: Any
    ) -> wsv1.PollNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        stage = request.wait_stage or CLOSED
        _, record = await self._load_when(
            namespace.id,
            request,
            lambda _, record: _reached(record.operation, stage),
            calls.wait_seconds(context, self._config.long_poll_seconds),
        )
        operation = record.operation
        response = wsv1.PollNexusOperationExecutionResponse(
            run_id=operation.run_id, operation_token=operation.info.operation_token
        )
        if _reached(operation, stage):
            response.wait_stage = stage
        if operation.HasField("result"):
            response.result.CopyFrom(operation.result)
        elif operation.HasField("failure"):
            response.failure.CopyFrom(operation.failure)
        return response

    @translated
    async def ListNexusOperationExecutions(
        self, request: wsv1.ListNexusOperationExecutionsRequest, context: Any
    ) -> wsv1.ListNexusOperationExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        types = NamespaceRegistry.search_attribute_types(namespace)
        query = _as_rows(filters.check(q.parse(request.query), types, built_in=NEXUS_COLUMNS, orderable=()))
        limit = calls.page_limit(request.page_size)
        rows = await self._operations.rows.store.list_standalone_activities(
            nexus_operation_rows(namespace.id), query, types, limit, calls.page_after(request.next_page_token)
        )
        response = wsv1.ListNexusOperationExecutionsResponse(
            operations=[_listed(Record.decode(row.state).operation, row.version) for row in rows]
        )
        if len(rows) == limit:
            last = rows[-1]
            response.next_page_token = calls.page_token((last.start_time, last.activity_id, last.run_id))
        return response

    @translated
    async def CountNexusOperationExecutions(
        self, request: wsv1.CountNexusOperationExecutionsRequest, context: Any
    ) -> wsv1.CountNexusOperationExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        types = NamespaceRegistry.search_attribute_types(namespace)
        checked = filters.check(q.parse(request.query), types, counting=True, built_in=NEXUS_COLUMNS)
        rows = await self._operations.rows.store.count_standalone_activities(
            nexus_operation_rows(namespace.id), _as_rows(checked), types
        )
        response = wsv1.CountNexusOperationExecutionsResponse(count=sum(count for _, count in rows))
        if checked.group_by:  # by status name, as Temporal orders them
            calls.add_groups(response.groups, sorted(calls.status_counts(rows, _STATUS_NAMES_BY_NUMBER)))
        return response

    @translated
    async def RequestCancelNexusOperationExecution(
        self, request: wsv1.RequestCancelNexusOperationExecutionRequest, context: Any
    ) -> wsv1.RequestCancelNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._operations.request_cancel(
            namespace.id,
            request.operation_id,
            request.run_id,
            request.reason,
            request.request_id or str(uuid.uuid4()),
        )
        return wsv1.RequestCancelNexusOperationExecutionResponse()

    @translated
    async def TerminateNexusOperationExecution(
        self, request: wsv1.TerminateNexusOperationExecutionRequest, context: Any
    ) -> wsv1.TerminateNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._operations.terminate(
            namespace.id,
            request.operation_id,
            request.run_id,
            request.reason,
            request.request_id or str(uuid.uuid4()),
        )
        return wsv1.TerminateNexusOperationExecutionResponse()

    @translated
    async def DeleteNexusOperationExecution(
        self, request: wsv1.DeleteNexusOperationExecutionRequest, context: Any
    ) -> wsv1.DeleteNexusOperationExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        _require_run(request)
        await self._operations.delete(namespace.id, request.operation_id, request.run_id)
        return wsv1.DeleteNexusOperationExecutionResponse()

    async def _load_when(
        self,
        namespace_id: str,
        request: Any,
        ready: Callable[[StoredStandaloneActivity, Record], bool],
        seconds: float,
    ) -> tuple[StoredStandaloneActivity, Record]:
        """The operation a request names once ``ready`` says so, or as it is after ``seconds``."""
        rows = self._operations.rows
        loop_until = rows.clock.now() + seconds
        while True:
            stored, record = await rows.load(namespace_id, request.operation_id, request.run_id)
            if ready(stored, record) or rows.clock.now() >= loop_until:
                return stored, record
            await rows.wait_change(namespace_id, request.operation_id, loop_until - rows.clock.now())


def _version_token(stored: StoredStandaloneActivity) -> bytes:
    """A describe's long-poll token: the operation's version, which every change moves on."""
    return str(stored.version).encode()


def _reached(operation: Operation, stage: int) -> bool:
    if not state.is_running(operation):
        return True
    return stage != CLOSED and operation.info.state == state.STARTED


def _require_run(request: Any) -> None:
    if not request.operation_id:
        raise InvalidArgumentError("operation_id is required")
    calls.check_run_id(request.run_id)


def _check_start(request: wsv1.StartNexusOperationExecutionRequest) -> None:
    for name in ("operation_id", "endpoint", "service", "operation"):
        if not getattr(request, name):
            raise InvalidArgumentError(f"{name} is required")
    for name in ("schedule_to_close_timeout", "schedule_to_start_timeout", "start_to_close_timeout"):
        if ev.seconds(getattr(request, name)) < 0:
            raise InvalidArgumentError(f"invalid {name}: negative duration")


def _new_operation(request: wsv1.StartNexusOperationExecutionRequest, request_id: str) -> Operation:
    operation = Operation(run_id=str(uuid.uuid4()))
    info = operation.info
    info.operation_id, info.run_id = request.operation_id, operation.run_id
    info.endpoint, info.service, info.operation = request.endpoint, request.service, request.operation
    info.request_id, info.identity = request_id, request.identity
    for name in ("schedule_to_close_timeout", "schedule_to_start_timeout", "start_to_close_timeout"):
        getattr(info, name).CopyFrom(getattr(request, name))
    info.nexus_header.update(dict(request.nexus_header))
    info.search_attributes.SetInParent()
    calls.copy_set_fields(request, info, ("user_metadata", "search_attributes"))
    info.links.extend(request.links)
    if request.HasField("input"):
        operation.input.CopyFrom(request.input)
    return operation


def _as_rows(query: q.Query) -> q.Query:
    """``query`` naming the standalone runs' columns where it names an operation's attributes."""

    def rename(expr: Any) -> Any:
        if expr is None:
            return None
        if isinstance(expr, q.Not):
            return q.Not(rename(expr.operand))
        if isinstance(expr, q.BoolOp):
            return q.BoolOp(expr.op, tuple(rename(operand) for operand in expr.operands))
        return dataclasses.replace(expr, name=_COLUMNS.get(expr.name, expr.name))

    return dataclasses.replace(query, where=rename(query.where))


def _listed(operation: Operation, transitions: int) -> NexusOperationExecutionListInfo:
    info = operation.info
    listed = NexusOperationExecutionListInfo(
        operation_id=info.operation_id,
        run_id=info.run_id,
        endpoint=info.endpoint,
        service=info.service,
        operation=info.operation,
        status=info.status,
        state_transition_count=transitions,
        state_size_bytes=operation.ByteSize(),
    )
    calls.copy_set_fields(
        info, listed, ("schedule_time", "close_time", "search_attributes", "execution_duration")
    )
    return listed
