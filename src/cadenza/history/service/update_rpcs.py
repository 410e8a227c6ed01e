"""UpdateWorkflowExecution and PollWorkflowExecutionUpdate: admitting an update, waiting on it.

An update is part of its run's mutable state from admission on, so the worker
answers it through a workflow task (see ``workflow_task_rpcs``) and the caller
here only waits for the execution to change.
"""

from __future__ import annotations

import time

from temporalio.api.update.v1 import Request

from cadenza.exceptions import FailedPreconditionError, NotFoundError
from cadenza.history.machine import updates, workflow_tasks
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


class UpdateRpcs(Engine):
    """Updates of a run: admit one, find the run holding one, wait for one."""

    async def request_update(self, key: ExecutionKey, request: Request) -> None:
        """Admit an update: remember it and make sure a workflow task will carry it."""
        async with self.changing(key) as (entry, change):
            if updates.status(entry.state, request.meta.update_id) is not None:
                return  # the same update again: its first request stands
            self._require_running(entry.state)
            if entry.state.paused:
                raise FailedPreconditionError("Workflow is paused. Cannot update the workflow.")
            updates.admit(change, request)
            workflow_tasks.ensure_scheduled(change, speculative=True)
            change.counts_as_transition = False

    async def run_holding_update(self, namespace_id: str, workflow_id: str, update_id: str) -> str | None:
        """The run an update-with-start attaches to instead of starting one.

        That is the current run when it already knows the update: at any stage
        while it runs, only once the update completed after it closed. Conflict
        and reuse policies do not apply then, as on Temporal.
        """
        current = await self._store.get_current_execution(namespace_id, workflow_id)
        if current is None:
            return None
        key = ExecutionKey(namespace_id, workflow_id, current.run_id)
        entry = await self.load_committed(key)
        status = updates.status(entry.state, update_id)
        if status is None:
            return None
        completed = status.outcome is not None and not status.abandoned
        return key.run_id if entry.state.running or completed else None

    async def wait_update(
        self, key: ExecutionKey, update_id: str, stage: int, deadline: float
    ) -> updates.Status:
        """Wait until the update reaches ``stage`` (or the deadline); return where it is."""
        while True:
            entry = await self.load_committed(key)  # an outcome is told only once it is durable
            current = updates.status(entry.state, update_id)
            if current is None:
                if not entry.state.running:
                    raise NotFoundError("workflow execution already completed")
                raise NotFoundError(f"update {update_id} not found")
            if current.stage >= stage or current.outcome is not None:
                return current
            if not entry.state.running:
                raise NotFoundError("workflow execution already completed")
            if not await entry.wait_changed(deadline - time.monotonic()):
                return current
