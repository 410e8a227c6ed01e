"""UpdateWorkflowExecutionOptions: a run's versioning override and priority, checked as the real
server checks them (the mask and the priority here, the override once the run is found)."""

from __future__ import annotations

from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.lookups import Runs
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import execution_options
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry


class ExecutionOptionsRpcs:
    """Change a running workflow's options: its versioning override, its priority."""

    def __init__(self, *, namespaces: NamespaceRegistry, history: HistoryService) -> None:
        self._history = history
        self._runs = Runs(namespaces, history)

    @translated
    async def UpdateWorkflowExecutionOptions(
        self, request: wsv1.UpdateWorkflowExecutionOptionsRequest, context: Any
    ) -> wsv1.UpdateWorkflowExecutionOptionsResponse:
        if not request.HasField("update_mask"):
            raise InvalidArgumentError("UpdateMask is required")
        if not request.HasField("workflow_execution_options"):
            raise InvalidArgumentError("WorkflowExecutionOptions is required")
        options, paths = request.workflow_execution_options, list(request.update_mask.paths)
        execution_options.check_request(options, paths)
        key = await self._runs.key(request.namespace, request.workflow_execution)
        updated = await self._history.update_execution_options(key, options, paths, request.identity)
        return wsv1.UpdateWorkflowExecutionOptionsResponse(workflow_execution_options=updated)
