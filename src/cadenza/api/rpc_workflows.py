"""RPCs on whole workflows: start, signal, query, update, read, cancel, terminate, reset, delete."""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import Link
from temporalio.api.enums.v1 import (
    ResetReapplyType,
    WorkflowExecutionStatus,
)
from temporalio.api.update.v1 import Request
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api import links
from cadenza.api.errors import translated
from cadenza.api.lookups import Runs, search_attribute_rules, task_token
from cadenza.api.requests import (
    check_blob,
    deadline_of,
    signal_of,
    start_request_of,
    wanted_stage,
    with_request_id,
)
from cadenza.concurrency.starts import RUN_WAITS, RunWaits, StartSlots, WaitUntil
from cadenza.config import ServerConfig
from cadenza.exceptions import CadenzaError, InvalidArgumentError, MultiOperationError
from cadenza.history.machine import updates
from cadenza.history.machine.signals import Signal
from cadenza.history.service import HistoryService
from cadenza.history.service.queries import Queries
from cadenza.history.service.reads import HistoryReader
from cadenza.history.service.starting import StartResult
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey, NamespaceRecord
from cadenza.protoutil import present
from cadenza.visibility import validation


class WorkflowRpcs:
    """RPCs on whole workflows: start, signal, query, update, read, cancel, terminate, reset, delete."""

    def __init__(
        self,
        *,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        history: HistoryService,
        reader: HistoryReader,
        queries: Queries,
        start_slots: StartSlots | None = None,
    ) -> None:
        self._config = config
        self._start_slots = start_slots or StartSlots(None)
        self._namespaces = namespaces
        self._history = history
        self._reader = reader
        self._queries = queries
        self._runs = Runs(namespaces, history)

    async def _limited_start(
        self,
        namespace: NamespaceRecord,
        request: wsv1.StartWorkflowExecutionRequest,
        context: Any,
        signal: Signal | None = None,
        update: Request | None = None,
    ) -> StartResult:
        """Start the run under the concurrency limits (``StartSlots.start``): past a full
        ``queue`` limit a client's start is written at once, its first workflow task waiting
        durably for the slots; update-with-start, whose answer needs the run, waits here until
        the call's deadline."""
        rules = self._rules(namespace)

        async def begin(await_slot: bool) -> StartResult:
            return await self._history.start_workflow(
                namespace, request, signal, rules=rules, update=update, await_slot=await_slot
            )

        when_queued: RunWaits | WaitUntil = RUN_WAITS if update is None else WaitUntil(deadline_of(context))
        return await self._start_slots.start(namespace.id, request, begin, when_queued)

    def _rules(self, namespace: NamespaceRecord) -> validation.Rules:
        """What search attributes set in ``namespace`` are checked against."""
        return search_attribute_rules(namespace, self._config.limits)

    @translated
    async def StartWorkflowExecution(
        self, request: wsv1.StartWorkflowExecutionRequest, context: Any
    ) -> wsv1.StartWorkflowExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        with_request_id(request)
        result = await self._limited_start(namespace, request, context)
        response = wsv1.StartWorkflowExecutionResponse(
            run_id=result.run_id,
            first_execution_run_id=result.first_execution_run_id,
            started=result.started,
            status=result.status,  # type: ignore[arg-type]
            link=links.started_event(namespace.name, request.workflow_id, result.run_id),
        )
        if result.eager_task is not None:
            response.eager_workflow_task.CopyFrom(result.eager_task)
        return response

    @translated
    async def SignalWorkflowExecution(
        self, request: wsv1.SignalWorkflowExecutionRequest, context: Any
    ) -> wsv1.SignalWorkflowExecutionResponse:
        key = await self._runs.key(request.namespace, request.workflow_execution)
        if not request.signal_name:
            raise InvalidArgumentError("SignalName is not set on request.")
        check_blob(request.input.ByteSize(), self._config)
        await self._history.signal_workflow(key, signal_of(request))
        return wsv1.SignalWorkflowExecutionResponse(
            link=links.request_event(
                request.namespace, key.workflow_id, key.run_id, request.request_id, links.SIGNALED
            )
        )

    @translated
    async def SignalWithStartWorkflowExecution(
        self, request: wsv1.SignalWithStartWorkflowExecutionRequest, context: Any
    ) -> wsv1.SignalWithStartWorkflowExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        if not request.signal_name:
            raise InvalidArgumentError("SignalName is not set on request.")
        check_blob(request.signal_input.ByteSize(), self._config)
        with_request_id(request)
        start = start_request_of(request)
        # The signal is recorded under the request's ID, as Temporal records it.
        signal = Signal(
            request.signal_name,
            present(request, "signal_input"),
            request.identity,
            present(request, "header"),
            request.request_id,
            tuple(request.links),
        )
        result = await self._limited_start(namespace, start, context, signal)
        return wsv1.SignalWithStartWorkflowExecutionResponse(
            run_id=result.run_id,
            first_execution_run_id=result.first_execution_run_id,
            started=result.started,
            signal_link=links.request_event(
                namespace.name, request.workflow_id, result.run_id, request.request_id, links.SIGNALED
            ),
        )

    @translated
    async def UpdateWorkflowExecution(
        self, request: wsv1.UpdateWorkflowExecutionRequest, context: Any
    ) -> wsv1.UpdateWorkflowExecutionResponse:
        key = await self._runs.key(
            request.namespace, request.workflow_execution, request.first_execution_run_id
        )
        return await self._update(key, request, deadline_of(context))

    async def _update(
        self, key: ExecutionKey, request: wsv1.UpdateWorkflowExecutionRequest, deadline: float
    ) -> wsv1.UpdateWorkflowExecutionResponse:
        self._check_update(request)
        current_run = not request.workflow_execution.run_id
        await self._history.request_update(key, request.request, current_run=current_run)
        update_id = request.request.meta.update_id
        status = await self._history.wait_update(
            key, update_id, wanted_stage(request.wait_policy.lifecycle_stage), deadline
        )
        response = wsv1.UpdateWorkflowExecutionResponse()
        _fill_update(response, key, update_id, status)
        link = _update_link(request.namespace, key, request.request.request_id, status)
        if link is not None:
            response.link.CopyFrom(link)
        return response

    def _check_update(self, request: wsv1.UpdateWorkflowExecutionRequest) -> None:
        if not request.request.meta.update_id:
            raise InvalidArgumentError("Update ID is not set on request.")
        if not request.request.input.name:
            raise InvalidArgumentError("Update name is not set on request.")
        check_blob(request.request.input.args.ByteSize(), self._config)

    @translated
    async def PollWorkflowExecutionUpdate(
        self, request: wsv1.PollWorkflowExecutionUpdateRequest, context: Any
    ) -> wsv1.PollWorkflowExecutionUpdateResponse:
        key = await self._runs.key(request.namespace, request.update_ref.workflow_execution)
        update_id = request.update_ref.update_id
        # With no stage asked for, a poll answers at once with where the update is.
        status = await self._history.wait_update(
            key, update_id, request.wait_policy.lifecycle_stage or updates.ADMITTED, deadline_of(context)
        )
        response = wsv1.PollWorkflowExecutionUpdateResponse()
        _fill_update(response, key, update_id, status)
        return response

    @translated
    async def ExecuteMultiOperation(
        self, request: wsv1.ExecuteMultiOperationRequest, context: Any
    ) -> wsv1.ExecuteMultiOperationResponse:
        """Update-with-start: start (or find) the workflow, then update it."""
        operations = list(request.operations)
        if (
            len(operations) != 2
            or not operations[0].HasField("start_workflow")
            or not operations[1].HasField("update_workflow")
        ):
            raise InvalidArgumentError(
                "ExecuteMultiOperation takes exactly a StartWorkflow then an UpdateWorkflow."
            )
        namespace = await self._namespaces.get(request.namespace)
        start = operations[0].start_workflow
        with_request_id(start)
        try:  # before the start, which admits the update in its own commit
            self._check_update(operations[1].update_workflow)
        except CadenzaError as error:
            raise MultiOperationError([None, error]) from error
        run_id, started = await self._start_for_update(
            namespace, start, operations[1].update_workflow, context
        )
        key = ExecutionKey(namespace.id, start.workflow_id, run_id)
        update = await self._update(key, operations[1].update_workflow, deadline_of(context))
        response = wsv1.ExecuteMultiOperationResponse()
        answer = response.responses.add().start_workflow
        answer.run_id, answer.started = run_id, started
        # As on Temporal: a run found, not started, is reported running and without its chain.
        answer.status = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        if started:
            answer.first_execution_run_id = run_id
        answer.link.CopyFrom(links.started_event(namespace.name, start.workflow_id, run_id))
        response.responses.add().update_workflow.CopyFrom(update)
        return response

    async def _start_for_update(
        self,
        namespace: NamespaceRecord,
        start: wsv1.StartWorkflowExecutionRequest,
        update: wsv1.UpdateWorkflowExecutionRequest,
        context: Any,
    ) -> tuple[str, bool]:
        """The run the update goes to, and whether this call started it (a start under the
        concurrency limits, as any client's)."""
        holder = await self._history.run_holding_update(
            namespace.id, start.workflow_id, update.request.meta.update_id
        )
        if holder is not None:
            return holder, False
        try:
            result = await self._limited_start(namespace, start, context, update=update.request)
        except CadenzaError as error:
            raise MultiOperationError([error, None]) from error
        return result.run_id, result.started

    @translated
    async def QueryWorkflow(
        self, request: wsv1.QueryWorkflowRequest, context: Any
    ) -> wsv1.QueryWorkflowResponse:
        key = await self._runs.key(request.namespace, request.execution)
        if not request.query.query_type:
            raise InvalidArgumentError("QueryType is not set on request.")
        check_blob(request.query.query_args.ByteSize(), self._config)
        answer = await self._queries.ask(
            key, request.query, request.query_reject_condition, deadline_of(context)
        )
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
        token = await task_token(self._namespaces, request)
        if not token.query_id:
            raise InvalidArgumentError("Invalid query task token.")
        await self._queries.answer(
            token,
            request.completed_type,
            present(request, "query_result"),
            request.error_message,
            present(request, "failure"),
        )
        return wsv1.RespondQueryTaskCompletedResponse()

    @translated
    async def GetWorkflowExecutionHistory(
        self, request: wsv1.GetWorkflowExecutionHistoryRequest, context: Any
    ) -> bytes:
        """The page, already serialized: its events are sent as stored."""
        key = await self._runs.key(request.namespace, request.execution)
        page = await self._reader.page(
            key,
            page_size=request.maximum_page_size,
            token=request.next_page_token,
            wait_new_event=request.wait_new_event,
            filter_type=request.history_event_filter_type,
            deadline=deadline_of(context),
        )
        return page.response_bytes()

    @translated
    async def DescribeWorkflowExecution(
        self, request: wsv1.DescribeWorkflowExecutionRequest, context: Any
    ) -> wsv1.DescribeWorkflowExecutionResponse:
        key = await self._runs.key(request.namespace, request.execution)
        return await self._reader.describe(key)

    @translated
    async def RequestCancelWorkflowExecution(
        self, request: wsv1.RequestCancelWorkflowExecutionRequest, context: Any
    ) -> wsv1.RequestCancelWorkflowExecutionResponse:
        key = await self._runs.key(
            request.namespace, request.workflow_execution, request.first_execution_run_id
        )
        await self._history.request_cancel_workflow(key, request.reason, request.identity)
        return wsv1.RequestCancelWorkflowExecutionResponse()

    @translated
    async def TerminateWorkflowExecution(
        self, request: wsv1.TerminateWorkflowExecutionRequest, context: Any
    ) -> wsv1.TerminateWorkflowExecutionResponse:
        key = await self._runs.key(
            request.namespace, request.workflow_execution, request.first_execution_run_id
        )
        details = present(request, "details")
        await self._history.terminate_workflow(key, request.reason, details, request.identity)
        return wsv1.TerminateWorkflowExecutionResponse()

    @translated
    async def ResetWorkflowExecution(
        self, request: wsv1.ResetWorkflowExecutionRequest, context: Any
    ) -> wsv1.ResetWorkflowExecutionResponse:
        key = await self._runs.key(request.namespace, request.workflow_execution)
        reapply = request.reset_reapply_type != ResetReapplyType.RESET_REAPPLY_TYPE_NONE
        run_id = await self._history.reset_workflow(
            key,
            request.workflow_task_finish_event_id,
            request.reason,
            request.identity,
            reapply_signals=reapply,
        )
        return wsv1.ResetWorkflowExecutionResponse(run_id=run_id)

    @translated
    async def DeleteWorkflowExecution(
        self, request: wsv1.DeleteWorkflowExecutionRequest, context: Any
    ) -> wsv1.DeleteWorkflowExecutionResponse:
        key = await self._runs.key(request.namespace, request.workflow_execution)
        await self._history.delete_workflow(key)
        return wsv1.DeleteWorkflowExecutionResponse()


def _update_link(namespace: str, key: ExecutionKey, request_id: str, status: updates.Status) -> Link | None:
    """Where an update's answer points: its Accepted event, or the workflow if it failed.

    As on Temporal, any update completed with a failure is linked as rejected.
    """
    if (
        status.stage == updates.COMPLETED
        and status.outcome is not None
        and status.outcome.HasField("failure")
    ):
        return links.rejected_update(namespace, key.workflow_id, key.run_id)
    if status.stage >= updates.ACCEPTED:
        return links.request_event(namespace, key.workflow_id, key.run_id, request_id, links.UPDATE_ACCEPTED)
    return None


def _fill_update(response: Any, key: ExecutionKey, update_id: str, status: updates.Status) -> None:
    """Where an update stands, as both update RPCs answer it."""
    response.stage = status.stage
    response.update_ref.workflow_execution.workflow_id = key.workflow_id
    response.update_ref.workflow_execution.run_id = key.run_id
    response.update_ref.update_id = update_id
    if status.outcome is not None:
        response.outcome.CopyFrom(status.outcome)
