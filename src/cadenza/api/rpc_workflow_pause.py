"""PauseWorkflowExecution and UnpauseWorkflowExecution, as Temporal 1.32 serves them.

Temporal pauses workflows only when its dynamic config sets ``frontend.WorkflowPauseEnabled``
(off by default), and so does Cadenza: without it a pause is refused UNIMPLEMENTED once
the namespace is found. Unpausing is not gated, as there, so a run paused while the setting
was on can always be let go. What a pause does to the run is in
``cadenza.history.machine.workflow_pause``.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.exceptions import (
    InvalidArgumentError,
    UnimplementedError,
)
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey
from cadenza.validation import check_length


class WorkflowPauseRpcs:
    """Workflow pause, served when ``enabled`` (Temporal's ``frontend.WorkflowPauseEnabled``)."""

    def __init__(self, *, namespaces: NamespaceRegistry, history: HistoryService, enabled: bool) -> None:
        self._namespaces = namespaces
        self._history = history
        self._enabled = enabled

    @translated
    async def PauseWorkflowExecution(
        self, request: wsv1.PauseWorkflowExecutionRequest, context: Any
    ) -> wsv1.PauseWorkflowExecutionResponse:
        if not self._enabled:
            await self._namespaces.get(request.namespace)
            raise UnimplementedError(f"workflow pause is not enabled for namespace: {request.namespace}")
        key = await self._key(request)
        await self._history.pause_workflow(key, request.identity, request.reason, request.request_id)
        return wsv1.PauseWorkflowExecutionResponse()

    @translated
    async def UnpauseWorkflowExecution(
        self, request: wsv1.UnpauseWorkflowExecutionRequest, context: Any
    ) -> wsv1.UnpauseWorkflowExecutionResponse:
        key = await self._key(request)
        await self._history.unpause_workflow(key, request.identity, request.reason, request.request_id)
        return wsv1.UnpauseWorkflowExecutionResponse()

    async def _key(
        self, request: wsv1.PauseWorkflowExecutionRequest | wsv1.UnpauseWorkflowExecutionRequest
    ) -> ExecutionKey:
        """The run a request names, once its fields are checked in Temporal's words."""
        namespace = await self._namespaces.get(request.namespace)
        check_length(request.reason, "reason is too long.")
        check_length(request.request_id, "request id is too long.")
        check_length(request.identity, "identity is too long.")
        if not request.workflow_id:
            raise InvalidArgumentError("Can't load workflow execution.  WorkflowId not set.")
        _check_run_id(request.run_id)
        key = await self._history.resolve_run(namespace.id, request.workflow_id, request.run_id)
        await self._history.load(key)  # a run ID of no run is refused here, in Temporal's words
        return key


def _check_run_id(run_id: str) -> None:
    if not run_id:
        return
    try:
        uuid.UUID(run_id)
    except ValueError as exc:
        raise InvalidArgumentError("RunId is not valid UUID.") from exc
