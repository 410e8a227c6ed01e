"""PauseWorkflowExecution and UnpauseWorkflowExecution on a run (see machine.workflow_pause)."""

from __future__ import annotations

from cadenza.history.machine import workflow_pause
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


class WorkflowPauseOperations(Engine):
    """Pause and unpause whole runs."""

    async def pause_workflow(self, key: ExecutionKey, identity: str, reason: str, request_id: str) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            workflow_pause.pause(change, identity, reason, request_id)

    async def unpause_workflow(self, key: ExecutionKey, identity: str, reason: str, request_id: str) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            workflow_pause.unpause(change, identity, reason, request_id)
