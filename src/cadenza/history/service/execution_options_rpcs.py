"""UpdateWorkflowExecutionOptions: a run's versioning override and priority, changed in place."""

from __future__ import annotations

from collections.abc import Callable

from temporalio.api.workflow.v1 import WorkflowExecutionOptions

from cadenza.history.machine import execution_options
from cadenza.history.machine.state import MutableState
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey

OptionsCheck = Callable[[MutableState, WorkflowExecutionOptions], None]
"""Refuses options a run may not take (a pinned version its task queue lacks), by raising."""


class ExecutionOptionsRpcs(Engine):
    """Change a running workflow's options; one event if they change, none if not."""

    async def update_execution_options(
        self,
        key: ExecutionKey,
        options: WorkflowExecutionOptions,
        paths: list[str],
        identity: str,
        check: OptionsCheck,
    ) -> WorkflowExecutionOptions:
        """Apply the masked ``options``; the run's options as they now stand."""
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            wanted = execution_options.merged(entry.state, options, paths)
            check(entry.state, wanted)
            execution_options.update(change, wanted, identity)
            return wanted
