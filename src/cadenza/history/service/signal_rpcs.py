"""SignalWorkflowExecution: a signal recorded on a running run, and a workflow task to show it.

SignalWithStartWorkflowExecution signals a running workflow through here too
(see ``starting``); signals between workflows arrive through ``transfers``.
"""

from __future__ import annotations

from cadenza.history.machine import signals, workflow_tasks
from cadenza.history.machine.signals import Signal
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


class SignalRpcs(Engine):
    """Signals to a run."""

    async def signal_workflow(self, key: ExecutionKey, signal: Signal) -> None:
        """Record the signal once (a retried request with the same ID is not recorded again)."""
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            if signals.seen(entry.state, signal.request_id):
                return
            signals.record(change, signal)
            workflow_tasks.ensure_scheduled(change)
