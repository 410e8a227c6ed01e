"""WorkflowService: validates requests, calls the engine, and shapes the replies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

import grpc
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    DescribeTaskQueueMode,
    ResetReapplyType,
    TaskQueueKind,
    TaskQueueType,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza import __version__
from cadenza.api import namespaces as ns_api
from cadenza.api.errors import translated
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.history import events as ev
from cadenza.history import updates
from cadenza.history.queries import Queries
from cadenza.history.reads import HistoryReader
from cadenza.history.service import HistoryService
from cadenza.history.signals import Signal
from cadenza.history.tokens import TaskToken
from cadenza.matching import MatchingService
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey, NamespaceRecord, TaskKind, TaskRecord
from cadenza.protoutil import is_repeated
from cadenza.visibility import attributes
from cadenza.visibility.service import Visibility

R = TypeVar("R")

POLL_SAFETY_MARGIN = 1.0
"""Answer a long poll this long before the client's deadline so it gets an empty reply."""


class WorkflowService:
    """The subset of Temporal's WorkflowService that Cadenza serves; the rest is UNIMPLEMENTED."""

    def __init__(
        self,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        history: HistoryService,
        reader: HistoryReader,
        matching: MatchingService,
        queries: Queries,
        visibility: Visibility,
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._history = history
        self._reader = reader
        self._matching = matching
        self._queries = queries
        self._visibility = visibility
        self._cluster_id = str(uuid.uuid4())

    # -- cluster and namespaces ---------------------------------------------------------

    @translated
    async def GetSystemInfo(self, request: Any, context: Any) -> wsv1.GetSystemInfoResponse:
        response = wsv1.GetSystemInfoResponse(server_version=__version__)
        caps = response.capabilities
        caps.signal_and_query_header = True
        caps.internal_error_differentiation = True
        caps.encoded_failure_attributes = True
        caps.sdk_metadata = True
        caps.activity_failure_include_heartbeat = True
        caps.upsert_memo = True
        caps.eager_workflow_start = True
        caps.count_group_by_execution_status = True
        return response

    @translated
    async def GetClusterInfo(self, request: Any, context: Any) -> wsv1.GetClusterInfoResponse:
        return wsv1.GetClusterInfoResponse(
            server_version=__version__,
            cluster_id=self._cluster_id,
            cluster_name="active",
            history_shard_count=1,
            persistence_store="sqlite",
            visibility_store="sqlite",
            initial_failover_version=1,
            failover_version_increment=10,
        )

    @translated
    async def RegisterNamespace(
        self, request: wsv1.RegisterNamespaceRequest, context: Any
    ) -> wsv1.RegisterNamespaceResponse:
        await ns_api.register(self._namespaces, request)
        return wsv1.RegisterNamespaceResponse()

    @translated
    async def DescribeNamespace(
        self, request: wsv1.DescribeNamespaceRequest, context: Any
    ) -> wsv1.DescribeNamespaceResponse:
        if not request.namespace and not request.id:
            raise InvalidArgumentError("Namespace not set on request.")
        record = await self._namespaces.get(request.namespace or request.id)
        return ns_api.describe(record, self._config)

    @translated
    async def DeprecateNamespace(
        self, request: wsv1.DeprecateNamespaceRequest, context: Any
    ) -> wsv1.DeprecateNamespaceResponse:
        await self._namespaces.update_info(request.namespace, {"state": "deprecated"})
        return wsv1.DeprecateNamespaceResponse()

    @translated
    async def ListNamespaces(
        self, request: wsv1.ListNamespacesRequest, context: Any
    ) -> wsv1.ListNamespacesResponse:
        response = wsv1.ListNamespacesResponse()
        for record in await self._namespaces.list_all():
            response.namespaces.append(ns_api.describe(record, self._config))
        return response

    # -- starting and reading workflows ----------------------------------------------------

    @translated
    async def StartWorkflowExecution(
        self, request: wsv1.StartWorkflowExecutionRequest, context: Any
    ) -> wsv1.StartWorkflowExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.request_id:
            request.request_id = str(uuid.uuid4())
        result = await self._history.start_workflow(namespace, request)
        response = wsv1.StartWorkflowExecutionResponse(run_id=result.run_id, started=True)
        if result.eager_task is not None:
            response.eager_workflow_task.CopyFrom(result.eager_task)
        return response

    @translated
    async def SignalWorkflowExecution(
        self, request: wsv1.SignalWorkflowExecutionRequest, context: Any
    ) -> wsv1.SignalWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        if not request.signal_name:
            raise InvalidArgumentError("SignalName is not set on request.")
        _check_blob(request.input.ByteSize(), self._config)
        await self._history.signal_workflow(key, _signal(request))
        return wsv1.SignalWorkflowExecutionResponse()

    @translated
    async def SignalWithStartWorkflowExecution(
        self, request: wsv1.SignalWithStartWorkflowExecutionRequest, context: Any
    ) -> wsv1.SignalWithStartWorkflowExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.signal_name:
            raise InvalidArgumentError("SignalName is not set on request.")
        _check_blob(request.signal_input.ByteSize(), self._config)
        if not request.request_id:
            request.request_id = str(uuid.uuid4())
        start = _start_request_of(request)
        signal = Signal(request.signal_name,
                        request.signal_input if request.HasField("signal_input") else None,
                        request.identity, request.header if request.HasField("header") else None)
        result = await self._history.start_workflow(namespace, start, signal)
        return wsv1.SignalWithStartWorkflowExecutionResponse(
            run_id=result.run_id, started=result.started)

    @translated
    async def UpdateWorkflowExecution(
        self, request: wsv1.UpdateWorkflowExecutionRequest, context: Any
    ) -> wsv1.UpdateWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        return await self._update(key, request, _deadline(context))

    async def _update(self, key: ExecutionKey, request: wsv1.UpdateWorkflowExecutionRequest,
                      deadline: float) -> wsv1.UpdateWorkflowExecutionResponse:
        if not request.request.meta.update_id:
            raise InvalidArgumentError("Update ID is not set on request.")
        if not request.request.input.name:
            raise InvalidArgumentError("Update name is not set on request.")
        _check_blob(request.request.input.args.ByteSize(), self._config)
        await self._history.request_update(key, request.request)
        update_id = request.request.meta.update_id
        status = await self._history.wait_update(
            key, update_id, _wanted_stage(request.wait_policy.lifecycle_stage), deadline)
        response = wsv1.UpdateWorkflowExecutionResponse(stage=status.stage)  # type: ignore[arg-type]
        response.update_ref.workflow_execution.workflow_id = key.workflow_id
        response.update_ref.workflow_execution.run_id = key.run_id
        response.update_ref.update_id = update_id
        if status.outcome is not None:
            response.outcome.CopyFrom(status.outcome)
        return response

    @translated
    async def PollWorkflowExecutionUpdate(
        self, request: wsv1.PollWorkflowExecutionUpdateRequest, context: Any
    ) -> wsv1.PollWorkflowExecutionUpdateResponse:
        key = await self._execution_key(request.namespace, request.update_ref.workflow_execution)
        update_id = request.update_ref.update_id
        status = await self._history.wait_update(
            key, update_id, _wanted_stage(request.wait_policy.lifecycle_stage), _deadline(context))
        response = wsv1.PollWorkflowExecutionUpdateResponse(stage=status.stage)  # type: ignore[arg-type]
        response.update_ref.workflow_execution.workflow_id = key.workflow_id
        response.update_ref.workflow_execution.run_id = key.run_id
        response.update_ref.update_id = update_id
        if status.outcome is not None:
            response.outcome.CopyFrom(status.outcome)
        return response

    @translated
    async def ExecuteMultiOperation(
        self, request: wsv1.ExecuteMultiOperationRequest, context: Any
    ) -> wsv1.ExecuteMultiOperationResponse:
        """Update-with-start: start (or find) the workflow, then update it."""
        operations = list(request.operations)
        if (len(operations) != 2 or not operations[0].HasField("start_workflow")
                or not operations[1].HasField("update_workflow")):
            raise InvalidArgumentError(
                "ExecuteMultiOperation takes exactly a StartWorkflow then an UpdateWorkflow.")
        namespace = await self._namespaces.get(request.namespace)
        start = operations[0].start_workflow
        if not start.request_id:
            start.request_id = str(uuid.uuid4())
        result = await self._history.start_workflow(namespace, start)
        run_id, started = result.run_id, result.started
        key = ExecutionKey(namespace.id, start.workflow_id, run_id)
        update = await self._update(key, operations[1].update_workflow, _deadline(context))
        response = wsv1.ExecuteMultiOperationResponse()
        first = response.responses.add()
        first.start_workflow.run_id = run_id
        first.start_workflow.started = started
        response.responses.add().update_workflow.CopyFrom(update)
        return response

    @translated
    async def QueryWorkflow(
        self, request: wsv1.QueryWorkflowRequest, context: Any
    ) -> wsv1.QueryWorkflowResponse:
        key = await self._execution_key(request.namespace, request.execution)
        if not request.query.query_type:
            raise InvalidArgumentError("QueryType is not set on request.")
        _check_blob(request.query.query_args.ByteSize(), self._config)
        answer = await self._queries.ask(key, request.query, request.query_reject_condition,
                                         _deadline(context))
        response = wsv1.QueryWorkflowResponse()
        if answer.rejected_status:
            response.query_rejected.status = answer.rejected_status  # type: ignore[assignment]
        elif answer.result is not None:
            response.query_result.CopyFrom(answer.result)
        return response

    @translated
    async def RespondQueryTaskCompleted(
        self, request: wsv1.RespondQueryTaskCompletedRequest, context: Any
    ) -> wsv1.RespondQueryTaskCompletedResponse:
        token = await self._token(request.task_token, request.namespace)
        if not token.query_id:
            raise InvalidArgumentError("Invalid query task token.")
        self._queries.answer(
            token, request.completed_type,
            request.query_result if request.HasField("query_result") else None,
            request.error_message, request.failure if request.HasField("failure") else None)
        return wsv1.RespondQueryTaskCompletedResponse()

    @translated
    async def GetWorkflowExecutionHistory(
        self, request: wsv1.GetWorkflowExecutionHistoryRequest, context: Any
    ) -> wsv1.GetWorkflowExecutionHistoryResponse:
        key = await self._execution_key(request.namespace, request.execution)
        page = await self._reader.page(
            key,
            page_size=request.maximum_page_size,
            token=request.next_page_token,
            wait_new_event=request.wait_new_event,
            filter_type=request.history_event_filter_type,
            deadline=_deadline(context),
        )
        response = wsv1.GetWorkflowExecutionHistoryResponse(next_page_token=page.next_page_token)
        response.history.events.extend(page.events)
        return response

    @translated
    async def DescribeWorkflowExecution(
        self, request: wsv1.DescribeWorkflowExecutionRequest, context: Any
    ) -> wsv1.DescribeWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.execution)
        return await self._reader.describe(key)

    async def _execution_key(self, namespace_name: str, execution: Any) -> ExecutionKey:
        namespace = await self._namespaces.get(namespace_name)
        if not execution.workflow_id:
            raise InvalidArgumentError("WorkflowId is not set on request.")
        return await self._history.resolve_run(namespace.id, execution.workflow_id,
                                               execution.run_id)

    # -- workflow tasks -------------------------------------------------------------------------

    @translated
    async def PollWorkflowTaskQueue(
        self, request: wsv1.PollWorkflowTaskQueueRequest, context: Any
    ) -> wsv1.PollWorkflowTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = _queue_name(request.task_queue)
        build_id = request.worker_version_capabilities.build_id
        deadline = min(_deadline(context), time.monotonic() + self._config.long_poll_seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            task = await self._matching.poll(namespace.id, name, TaskKind.WORKFLOW,
                                             request.identity, remaining)
            if task is None:
                break
            if task.query_id:
                query_response = await self._queries.task_response(task)
                if query_response is not None:
                    return query_response
                continue
            response = await self._delivered(
                task, self._history.record_workflow_task_started(task, request.identity, build_id))
            if response is not None:
                return response
        return wsv1.PollWorkflowTaskQueueResponse()

    @translated
    async def RespondWorkflowTaskCompleted(
        self, request: wsv1.RespondWorkflowTaskCompletedRequest, context: Any
    ) -> wsv1.RespondWorkflowTaskCompletedResponse:
        token = await self._token(request.task_token, request.namespace)
        return await self._history.complete_workflow_task(token, request)

    @translated
    async def RespondWorkflowTaskFailed(
        self, request: wsv1.RespondWorkflowTaskFailedRequest, context: Any
    ) -> wsv1.RespondWorkflowTaskFailedResponse:
        token = await self._token(request.task_token, request.namespace)
        await self._history.fail_workflow_task(token, request)
        return wsv1.RespondWorkflowTaskFailedResponse()

    @translated
    async def ResetStickyTaskQueue(
        self, request: wsv1.ResetStickyTaskQueueRequest, context: Any
    ) -> wsv1.ResetStickyTaskQueueResponse:
        key = await self._execution_key(request.namespace, request.execution)
        await self._history.reset_sticky(key)
        return wsv1.ResetStickyTaskQueueResponse()

    @translated
    async def ShutdownWorker(
        self, request: wsv1.ShutdownWorkerRequest, context: Any
    ) -> wsv1.ShutdownWorkerResponse:
        namespace = await self._namespaces.get(request.namespace)
        if request.sticky_task_queue:
            for task in self._matching.shut_down_sticky(namespace.id, request.sticky_task_queue):
                await self._history.sticky_queue_lost(task)
        return wsv1.ShutdownWorkerResponse()

    # -- activity tasks -----------------------------------------------------------------------------

    @translated
    async def PollActivityTaskQueue(
        self, request: wsv1.PollActivityTaskQueueRequest, context: Any
    ) -> wsv1.PollActivityTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = _queue_name(request.task_queue)
        deadline = min(_deadline(context), time.monotonic() + self._config.long_poll_seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            task = await self._matching.poll(namespace.id, name, TaskKind.ACTIVITY,
                                             request.identity, remaining)
            if task is None:
                break
            response = await self._delivered(
                task, self._history.record_activity_task_started(task, request.identity))
            if response is not None:
                return response
        return wsv1.PollActivityTaskQueueResponse()

    @translated
    async def RespondActivityTaskCompleted(
        self, request: wsv1.RespondActivityTaskCompletedRequest, context: Any
    ) -> wsv1.RespondActivityTaskCompletedResponse:
        token = await self._token(request.task_token, request.namespace)
        await self._complete_activity(token, request)
        return wsv1.RespondActivityTaskCompletedResponse()

    @translated
    async def RespondActivityTaskFailed(
        self, request: wsv1.RespondActivityTaskFailedRequest, context: Any
    ) -> wsv1.RespondActivityTaskFailedResponse:
        token = await self._token(request.task_token, request.namespace)
        _check_blob(request.failure.ByteSize(), self._config)
        details = (request.last_heartbeat_details if request.HasField("last_heartbeat_details")
                   else None)
        await self._history.fail_activity(token, request.failure, request.identity, details)
        return wsv1.RespondActivityTaskFailedResponse()

    @translated
    async def RespondActivityTaskCanceled(
        self, request: wsv1.RespondActivityTaskCanceledRequest, context: Any
    ) -> wsv1.RespondActivityTaskCanceledResponse:
        token = await self._token(request.task_token, request.namespace)
        details = request.details if request.HasField("details") else None
        await self._history.cancel_activity(token, details, request.identity)
        return wsv1.RespondActivityTaskCanceledResponse()

    @translated
    async def RecordActivityTaskHeartbeat(
        self, request: wsv1.RecordActivityTaskHeartbeatRequest, context: Any
    ) -> wsv1.RecordActivityTaskHeartbeatResponse:
        token = await self._token(request.task_token, request.namespace)
        cancel = await self._heartbeat(token, request)
        return wsv1.RecordActivityTaskHeartbeatResponse(cancel_requested=cancel)

    @translated
    async def RecordActivityTaskHeartbeatById(
        self, request: wsv1.RecordActivityTaskHeartbeatByIdRequest, context: Any
    ) -> wsv1.RecordActivityTaskHeartbeatByIdResponse:
        token = await self._token_by_id(request)
        cancel = await self._heartbeat(token, request)
        return wsv1.RecordActivityTaskHeartbeatByIdResponse(cancel_requested=cancel)

    @translated
    async def RespondActivityTaskCompletedById(
        self, request: wsv1.RespondActivityTaskCompletedByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskCompletedByIdResponse:
        token = await self._token_by_id(request)
        await self._complete_activity(token, request)
        return wsv1.RespondActivityTaskCompletedByIdResponse()

    @translated
    async def RespondActivityTaskFailedById(
        self, request: wsv1.RespondActivityTaskFailedByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskFailedByIdResponse:
        token = await self._token_by_id(request)
        _check_blob(request.failure.ByteSize(), self._config)
        details = (request.last_heartbeat_details if request.HasField("last_heartbeat_details")
                   else None)
        await self._history.fail_activity(token, request.failure, request.identity, details)
        return wsv1.RespondActivityTaskFailedByIdResponse()

    @translated
    async def RespondActivityTaskCanceledById(
        self, request: wsv1.RespondActivityTaskCanceledByIdRequest, context: Any
    ) -> wsv1.RespondActivityTaskCanceledByIdResponse:
        token = await self._token_by_id(request)
        details = request.details if request.HasField("details") else None
        await self._history.cancel_activity(token, details, request.identity)
        return wsv1.RespondActivityTaskCanceledByIdResponse()

    # -- whole runs ------------------------------------------------------------------------

    @translated
    async def RequestCancelWorkflowExecution(
        self, request: wsv1.RequestCancelWorkflowExecutionRequest, context: Any
    ) -> wsv1.RequestCancelWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        await self._history.request_cancel_workflow(key, request.reason, request.identity)
        return wsv1.RequestCancelWorkflowExecutionResponse()

    @translated
    async def TerminateWorkflowExecution(
        self, request: wsv1.TerminateWorkflowExecutionRequest, context: Any
    ) -> wsv1.TerminateWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        details = request.details if request.HasField("details") else None
        await self._history.terminate_workflow(key, request.reason, details, request.identity)
        return wsv1.TerminateWorkflowExecutionResponse()

    @translated
    async def ResetWorkflowExecution(
        self, request: wsv1.ResetWorkflowExecutionRequest, context: Any
    ) -> wsv1.ResetWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        reapply = request.reset_reapply_type != ResetReapplyType.RESET_REAPPLY_TYPE_NONE
        run_id = await self._history.reset_workflow(
            key, request.workflow_task_finish_event_id, request.reason, request.identity,
            reapply_signals=reapply)
        return wsv1.ResetWorkflowExecutionResponse(run_id=run_id)

    @translated
    async def DeleteWorkflowExecution(
        self, request: wsv1.DeleteWorkflowExecutionRequest, context: Any
    ) -> wsv1.DeleteWorkflowExecutionResponse:
        key = await self._execution_key(request.namespace, request.workflow_execution)
        await self._history.delete_workflow(key)
        return wsv1.DeleteWorkflowExecutionResponse()

    @translated
    async def DescribeTaskQueue(
        self, request: wsv1.DescribeTaskQueueRequest, context: Any
    ) -> wsv1.DescribeTaskQueueResponse:
        namespace = await self._namespaces.get(request.namespace)
        name = _queue_name(request.task_queue)
        kind = (TaskKind.ACTIVITY
                if request.task_queue_type == TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
                else TaskKind.WORKFLOW)
        response = wsv1.DescribeTaskQueueResponse()
        self._fill_pollers(response.pollers, namespace.id, name, kind)
        response.task_queue_status.backlog_count_hint = self._matching.backlog(
            namespace.id, name, kind)
        if request.api_mode == DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED:
            # The CLI's view: pollers and backlog per task type, for the unversioned queue.
            version = response.versions_info[""]
            kinds = list(request.task_queue_types) or [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                                                       TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]
            for queue_type in kinds:
                task_kind = (TaskKind.ACTIVITY if queue_type == TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
                             else TaskKind.WORKFLOW)
                info = version.types_info[queue_type]
                self._fill_pollers(info.pollers, namespace.id, name, task_kind)
                info.stats.approximate_backlog_count = self._matching.backlog(
                    namespace.id, name, task_kind)
        return response

    def _fill_pollers(self, out: Any, namespace_id: str, name: str, kind: TaskKind) -> None:
        for identity, last in self._matching.pollers(namespace_id, name, kind).items():
            poller = out.add(identity=identity)
            poller.last_access_time.CopyFrom(ev.timestamp(last))

    @translated
    async def UpdateNamespace(
        self, request: wsv1.UpdateNamespaceRequest, context: Any
    ) -> wsv1.UpdateNamespaceResponse:
        record = await ns_api.update(self._namespaces, request)
        described = ns_api.describe(record, self._config)
        return wsv1.UpdateNamespaceResponse(
            namespace_info=described.namespace_info, config=described.config,
            replication_config=described.replication_config)

    # -- visibility ---------------------------------------------------------------------------

    @translated
    async def ListWorkflowExecutions(
        self, request: wsv1.ListWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ListWorkflowExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        page = await self._visibility.list_page(namespace, request.query, request.page_size,
                                                request.next_page_token)
        return wsv1.ListWorkflowExecutionsResponse(
            executions=page.executions, next_page_token=page.next_page_token)

    @translated
    async def ScanWorkflowExecutions(
        self, request: wsv1.ScanWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ScanWorkflowExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        page = await self._visibility.list_page(namespace, request.query, request.page_size,
                                                request.next_page_token)
        return wsv1.ScanWorkflowExecutionsResponse(
            executions=page.executions, next_page_token=page.next_page_token)

    @translated
    async def CountWorkflowExecutions(
        self, request: wsv1.CountWorkflowExecutionsRequest, context: Any
    ) -> wsv1.CountWorkflowExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        total, groups = await self._visibility.count(namespace, request.query)
        response = wsv1.CountWorkflowExecutionsResponse(count=total)
        for value, count in groups:
            group = response.groups.add(count=count)
            group.group_values.append(value)
        return response

    @translated
    async def GetSearchAttributes(
        self, request: wsv1.GetSearchAttributesRequest, context: Any
    ) -> wsv1.GetSearchAttributesResponse:
        namespace = await self._namespaces.get(self._config.default_namespace)
        response = wsv1.GetSearchAttributesResponse()
        for name, (_, kind) in attributes.BUILT_IN.items():
            response.keys[name] = kind  # type: ignore[assignment]
        for name, kind in {**attributes.SYSTEM_CUSTOM,
                           **NamespaceRegistry.search_attribute_types(namespace)}.items():
            response.keys[name] = kind  # type: ignore[assignment]
        return response

    # -- helpers ------------------------------------------------------------------------------------

    async def _delivered(self, task: TaskRecord, recording: Awaitable[R]) -> R:
        """Record a polled task as started; if that fails, the task goes back on its queue."""
        try:
            return await recording
        except BaseException:
            self._matching.return_task(task)
            raise

    async def _complete_activity(self, token: TaskToken, request: Any) -> None:
        """Complete, unless the result is over the limit: then, as Temporal, the activity fails."""
        if request.result.ByteSize() > self._config.limits.blob_size_error:
            await self._history.fail_activity(
                token, _oversize_failure("Complete result exceeds size limit."), request.identity)
            return
        result = request.result if request.HasField("result") else None
        await self._history.complete_activity(token, result, request.identity)

    async def _heartbeat(self, token: TaskToken, request: Any) -> bool:
        if request.details.ByteSize() > self._config.limits.blob_size_error:
            await self._history.fail_activity(
                token, _oversize_failure("Heartbeat details exceed size limit."), request.identity)
            return False
        details = request.details if request.HasField("details") else None
        return await self._history.heartbeat_activity(token, details)

    async def _token_by_id(self, request: Any) -> TaskToken:
        if not request.activity_id:
            raise InvalidArgumentError("ActivityId is not set on request.")
        key = await self._execution_key(
            request.namespace,
            WorkflowExecution(workflow_id=request.workflow_id, run_id=request.run_id))
        return await self._history.activity_token(key, request.activity_id)

    async def _token(self, data: bytes, namespace_name: str) -> TaskToken:
        if not data:
            raise InvalidArgumentError("Task token not set on request.")
        token = TaskToken.decode(data)
        namespace: NamespaceRecord = await self._namespaces.get(namespace_name)
        if namespace.id != token.namespace_id:
            raise InvalidArgumentError("Operation requested with a token from a different namespace.")
        return token


_SIGNAL_WITH_START_FIELDS = frozenset(
    f.name for f in wsv1.StartWorkflowExecutionRequest.DESCRIPTOR.fields
) & frozenset(f.name for f in wsv1.SignalWithStartWorkflowExecutionRequest.DESCRIPTOR.fields)
"""The start fields SignalWithStart shares with StartWorkflowExecution, copied across by name."""


def _wanted_stage(stage: int) -> int:
    """Unspecified means completed, as in Temporal."""
    return stage or updates.COMPLETED


def _start_request_of(
    request: wsv1.SignalWithStartWorkflowExecutionRequest,
) -> wsv1.StartWorkflowExecutionRequest:
    start = wsv1.StartWorkflowExecutionRequest()
    source: Any = request
    for field in start.DESCRIPTOR.fields:
        if field.name not in _SIGNAL_WITH_START_FIELDS:
            continue
        if is_repeated(field):
            getattr(start, field.name).extend(getattr(source, field.name))
        elif field.message_type is None:
            setattr(start, field.name, getattr(source, field.name))
        elif source.HasField(field.name):
            getattr(start, field.name).CopyFrom(getattr(source, field.name))
    return start


def _signal(request: wsv1.SignalWorkflowExecutionRequest) -> Signal:
    return Signal(
        request.signal_name,
        request.input if request.HasField("input") else None,
        request.identity,
        request.header if request.HasField("header") else None,
        request.request_id,
    )


def _queue_name(task_queue: Any) -> str:
    if not task_queue.name:
        raise InvalidArgumentError("missing task queue name")
    if task_queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY and not task_queue.name:
        raise InvalidArgumentError("missing sticky task queue name")
    return str(task_queue.name)


def _deadline(context: grpc.aio.ServicerContext[Any, Any]) -> float:
    remaining = context.time_remaining()
    if remaining is None:
        remaining = 70.0
    return time.monotonic() + max(0.0, remaining - POLL_SAFETY_MARGIN)


def _oversize_failure(message: str) -> Failure:
    failure = Failure(message=message)
    failure.server_failure_info.non_retryable = True
    return failure


def _check_blob(size: int, config: ServerConfig) -> None:
    if size > config.limits.blob_size_error:
        raise InvalidArgumentError("Blob data size exceeds limit.")
