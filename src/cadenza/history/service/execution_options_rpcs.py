"""UpdateWorkflowExecutionOptions: a run's versioning override and priority, changed in place."""

from __future__ import annotations

from temporalio.api.workflow.v1 import WorkflowExecutionOptions

from cadenza.history.machine import execution_options, override_checks
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
            state = entry.state
            routing = self._dispatch.deployments
            override_checks.require_polled(
                routing, state.namespace_id, state.task_queue, asked.versioning_override
            )
            wanted = execution_options.merged(entry.state, asked, paths)
            execution_options.update(change, wanted, identity)
            return wanted
