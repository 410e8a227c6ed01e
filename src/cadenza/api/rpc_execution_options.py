"""UpdateWorkflowExecutionOptions: a run's versioning override and priority, checked as the real
server checks them."""

from __future__ import annotations

from typing import Any

from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.api.lookups import Runs
from cadenza.deployments import names
from cadenza.deployments.registry import WorkerDeployments
from cadenza.exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError
from cadenza.history.machine import execution_options, priorities, versioning
from cadenza.history.machine.state import MutableState
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry

PINNED_BY_OVERRIDE = VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED


class ExecutionOptionsRpcs:
    """Change a running workflow's options: its versioning override, its priority."""

    def __init__(
        self, *, namespaces: NamespaceRegistry, history: HistoryService, deployments: WorkerDeployments
    ) -> None:
        self._history = history
        self._deployments = deployments
        self._runs = Runs(namespaces, history)

    @translated
    async def UpdateWorkflowExecutionOptions(
        self, request: wsv1.UpdateWorkflowExecutionOptionsRequest, context: Any
    ) -> wsv1.UpdateWorkflowExecutionOptionsResponse:
        if not request.HasField("update_mask"):
            raise InvalidArgumentError("UpdateMask is required")
        if not request.HasField("workflow_execution_options"):
            raise InvalidArgumentError("WorkflowExecutionOptions is required")
        for path in request.update_mask.paths:
            if path not in execution_options.MASKABLE:
                raise InvalidArgumentError(
                    # Go's protobuf writes a no-break space after "proto:", as the real server shows.
                    f'error parsing UpdateMask: proto:\u00a0invalid path "{path}" for message '
                    '"temporal.api.workflow.v1.WorkflowExecutionOptions"'
                )
        options = request.workflow_execution_options
        _check_override(options.versioning_override)
        priorities.validate(options.priority)
        key = await self._runs.key(request.namespace, request.workflow_execution)
        updated = await self._history.update_execution_options(
            key, options, list(request.update_mask.paths), request.identity, self._check_pinned
        )
        return wsv1.UpdateWorkflowExecutionOptionsResponse(workflow_execution_options=updated)

    def _check_pinned(self, state: MutableState, options: WorkflowExecutionOptions) -> None:
        """A run may be pinned only to a version whose workers poll its task queue."""
        version = versioning.override_version(options.versioning_override)
        if not version:
            return
        deployment_name, build_id = names.split_version(version)
        try:
            _, known = self._deployments.version(state.namespace_id, deployment_name, build_id)
        except NotFoundError:
            known = None
        if known is None or not known.polls(state.task_queue):
            raise FailedPreconditionError(
                f"Pinned version '{deployment_name}:{build_id}' is not present in task queue "
                f"'{state.task_queue}' of type 'Workflow'"
            )


def _check_override(override: VersioningOverride) -> None:
    if override.HasField("pinned"):
        if override.pinned.behavior != PINNED_BY_OVERRIDE:
            raise InvalidArgumentError("override behavior is required")
        if not override.pinned.version.deployment_name or not override.pinned.version.build_id:
            raise InvalidArgumentError("must provide a pinned version when the override pins")
