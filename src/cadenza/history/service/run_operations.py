"""Operations on a whole run: RequestCancel-, Terminate-, Reset- and DeleteWorkflowExecution.

Reset starts a new run from the base run's history and terminates the current
run in the same commit; delete terminates a running run before removing it.
"""

from __future__ import annotations

import uuid

from temporalio.api.common.v1 import Payloads

from cadenza.history.machine import reset, starts, workflow_ops
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


class RunOperations(Engine):
    """Cancel, terminate, reset or delete a run."""

    async def request_cancel_workflow(self, key: ExecutionKey, reason: str, identity: str) -> None:
        """Ask the run to cancel; repeating the request, or asking a closed run, is a no-op."""
        async with self.changing(key) as (entry, change):
            if entry.state.running:
                workflow_ops.request_cancel(change, reason, identity)

    async def terminate_workflow(
        self, key: ExecutionKey, reason: str, details: Payloads | None, identity: str
    ) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            workflow_ops.terminate(change, reason, details, identity)

    async def reset_workflow(
        self, key: ExecutionKey, finish_event_id: int, reason: str, identity: str, reapply_signals: bool
    ) -> str:
        """Start a new run from the base run's history up to a workflow task; return its ID."""
        base = await self.load(key)
        history = list(await self.cache.history(base))
        started_id = reset.started_event_id(history, finish_event_id)
        s = base.state
        state = _reset_run(s, self._clock.now())
        follow = Change(
            state, state.start_time, 0, self._dispatch.sticky_alive, routing=self._dispatch.deployments
        )
        reset.build(
            follow,
            history,
            started_id,
            reason=reason,
            identity=identity,
            base_run_id=s.run_id,
            reapply_signals=reapply_signals,
        )
        follow.new_current = starts.current_record(state)
        current = await self._store.get_current_execution(s.namespace_id, s.workflow_id)
        assert current is not None
        follow.replaced_run_id = current.run_id
        current_key = ExecutionKey(s.namespace_id, s.workflow_id, current.run_id)
        async with self.changing(current_key) as (entry, change):
            if entry.state.running:
                workflow_ops.terminate(change, reason, None, "history-resetter")
            if current_key == key:
                entry.state.reset_run_id = state.run_id
            change.successor = follow
            change.state_changed = True
        if current_key != key:  # an earlier run was reset: it names its new run, as Temporal's does
            async with self.changing(key) as (entry, change):
                entry.state.reset_run_id = state.run_id
                change.state_changed = True
        return state.run_id

    async def delete_workflow(self, key: ExecutionKey) -> None:
        """Terminate the run if it still runs, then remove it and its history."""
        entry = await self.load(key)
        if entry.state.running:
            await self.terminate_workflow(key, "Delete workflow execution", None, "")
        entry = await self._locked(key)
        try:
            await self._store.delete_execution(key)
            self.cache.drop(key)
        finally:
            entry.lock.release()


def _reset_run(base: MutableState, now: float) -> MutableState:
    """The new run of a reset: the base run's settings, a fresh run ID, started ``now``; its
    execution timeout counts from the reset, as Temporal's does."""
    return MutableState(
        namespace_id=base.namespace_id,
        namespace=base.namespace,
        workflow_id=base.workflow_id,
        run_id=str(uuid.uuid4()),
        workflow_type=base.workflow_type,
        task_queue=base.task_queue,
        start_time=now,
        start_request_id=str(uuid.uuid4()),
        workflow_task_timeout=base.workflow_task_timeout,
        run_timeout=base.run_timeout,
        execution_timeout=base.execution_timeout,
        attempt=base.attempt,
        retry_policy=base.retry_policy,
        cron_schedule=base.cron_schedule,
        first_execution_run_id=base.first_execution_run_id,
        execution_deadline=now + base.execution_timeout if base.execution_timeout else 0.0,
        parent=base.parent,
        last_reset_time=now,
        priority=base.priority,
    )
