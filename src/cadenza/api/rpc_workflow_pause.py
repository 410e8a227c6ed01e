"""PauseWorkflowExecution and UnpauseWorkflowExecution, as Temporal 1.32 answers them by default.

The real server pauses workflows only in namespaces whose dynamic config sets
``frontend.WorkflowPauseEnabled``, which is off by default, and Cadenza has no such
setting: a pause is refused UNIMPLEMENTED once the namespace is found. Unpausing is
not gated there, so an unpause request is checked and its run looked up as Temporal
does; a run that is running cannot be paused, so it is refused as "not paused".
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.exceptions import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
)
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry
from cadenza.validation import check_length


class WorkflowPauseRpcs:
    """Workflow pause, disabled as on the real server by default."""

    def __init__(self, *, namespaces: NamespaceRegistry, history: HistoryService) -> None:
        self._namespaces = namespaces
        self._history = history

    @translated
    async def PauseWorkflowExecution(
        self, request: wsv1.PauseWorkflowExecutionRequest, context: Any
    ) -> wsv1.PauseWorkflowExecutionResponse:
        await self._namespaces.get(request.namespace)
        raise UnimplementedError(f"workflow pause is not enabled for namespace: {request.namespace}")

    @translated
    async def UnpauseWorkflowExecution(
        self, request: wsv1.UnpauseWorkflowExecutionRequest, context: Any
    ) -> wsv1.UnpauseWorkflowExecutionResponse:
        namespace = await self._namespaces.get(request.namespace)
        check_length(request.reason, "reason is too long.")
        check_length(request.request_id, "request id is too long.")
        check_length(request.identity, "identity is too long.")
        if not request.workflow_id:
            raise InvalidArgumentError("Can't load workflow execution.  WorkflowId not set.")
        _check_run_id(request.run_id)
        key = await self._history.resolve_run(namespace.id, request.workflow_id, request.run_id)
        entry = await self._history.load(key)
        if not entry.state.running:
            raise NotFoundError("workflow execution already completed")
        raise FailedPreconditionError("workflow is not paused.")


def _check_run_id(run_id: str) -> None:
    if not run_id:
        return
    try:
        uuid.UUID(run_id)
    except ValueError as exc:
        raise InvalidArgumentError("RunId is not valid UUID.") from exc
