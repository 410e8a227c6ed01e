"""UpdateWorkflowExecutionOptions: a run's versioning override and priority, changed in place."""

from __future__ import annotations

from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions

from cadenza.deployments import names
from cadenza.exceptions import FailedPreconditionError
from cadenza.history.machine import execution_options, override_checks
from cadenza.history.machine.state import MutableState
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


class ExecutionOptionsRpcs(Engine):
    """Change a running workflow's options; one event if they change, none if not."""

    async def update_execution_options(
        self, key: ExecutionKey, options: WorkflowExecutionOptions, paths: list[str], identity: str
    ) -> WorkflowExecutionOptions:
        """Apply the masked ``options``; the run's options as they now stand. The override asked
        for is checked even where the mask leaves it out, as Temporal checks it."""
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            asked = override_checks.completed(entry.state, options)
            self._require_polled(entry.state, asked.versioning_override)
            wanted = execution_options.merged(entry.state, asked, paths)
            execution_options.update(change, wanted, identity)
            return wanted

    def _require_polled(self, state: MutableState, override: VersioningOverride) -> None:
        """A run may be pinned only to a version whose workers poll its task queue."""
        pinned = override_checks.pinned_to(override)
        if pinned is None:
            return
        deployment_name, build_id = pinned
        version = names.version_name(deployment_name, build_id)
        if not build_id or not self._dispatch.deployments.polls(
            state.namespace_id, state.task_queue, version
        ):
            raise FailedPreconditionError(
                f"Pinned version '{deployment_name}:{build_id}' is not present in task queue "
                f"'{state.task_queue}' of type 'Workflow'"
            )
