"""UpdateWorkflowExecution and PollWorkflowExecutionUpdate: admitting an update, waiting on it.

An update is part of its run's mutable state from admission on, so the worker
answers it through a workflow task (see ``workflow_task_rpcs``) and the caller
here only waits for the execution to change.
"""

from __future__ import annotations

import time

from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope, WorkflowExecutionStatus
from temporalio.api.update.v1 import Request

from cadenza.exceptions import FailedPreconditionError, NotFoundError, ResourceExhaustedError
from cadenza.history.machine import updates, workflow_tasks
from cadenza.history.machine.state import MutableState
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey

_CONTINUED_AS_NEW = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW


class UpdateRpcs(Engine):
    """Updates of a run: admit one, find the run holding one, wait for one."""

    async def request_update(self, key: ExecutionKey, request: Request, *, current_run: bool = False) -> None:
        """Admit an update: remember it and make sure a workflow task will carry it.

        ``current_run``: the caller named no run, so one that continued as new
        since it was looked up sends the caller back to find its successor.
        """
        async with self.changing(key) as (entry, change):
            known = updates.status(entry.state, request.meta.update_id)
            if known is not None and (entry.state.running or known.stage >= updates.ACCEPTED):
                return  # the same update again: its first request stands
            if current_run:
                _refuse_if_continued(entry.state)
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
        """Wait until the update reaches ``stage`` (or the deadline); return where it is.

        One the run leaves unaccepted when it continues as new during the wait
        is to be sent again (see ``_refuse_if_continued``).
        """
        seen_running = False
        while True:
            entry = await self.load_committed(key)  # an outcome is told only once it is durable
            seen_running = seen_running or entry.state.running
            current = updates.status(entry.state, update_id)
            if current is None:
                if not entry.state.running:
                    raise NotFoundError("workflow execution already completed")
                raise NotFoundError(f"update {update_id} not found")
            if current.stage >= stage or current.outcome is not None:
                return current
            if seen_running:
                _refuse_if_continued(entry.state)
            if not entry.state.running:
                raise NotFoundError("workflow execution already completed")
            if not await entry.wait_changed(deadline - time.monotonic()):
                return current


def _refuse_if_continued(state: MutableState) -> None:
    """An update not yet accepted by a run that continued as new is to be sent again.

    As on Temporal, the error is one the SDK retries: a caller that named no run
    then reaches the successor, one that named this run learns it completed.
    """
    if state.status == _CONTINUED_AS_NEW:
        raise ResourceExhaustedError(
            "workflow operation can not be applied because workflow is closing",
            cause=ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW,
            scope=ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
        )
