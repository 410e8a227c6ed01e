"""Whether a slot's holder still runs, read from the engine (for the sweep of stale slots)."""

from __future__ import annotations

from cadenza.concurrency.slots import HolderAlive
from cadenza.exceptions import NotFoundError
from cadenza.history.service.engine import Engine
from cadenza.persistence.concurrency_records import SlotRecord
from cadenza.persistence.records import ExecutionKey


def holder_check(engine: Engine) -> HolderAlive:
    """``holder_alive`` for the slots: an activity's attempt still started, a workflow's chain
    still running."""

    async def alive(slot: SlotRecord) -> bool:
        try:
            if not slot.run_id:
                key = await engine.resolve_run(slot.namespace_id, slot.workflow_id, "")
                return (await engine.load_committed(key)).state.running
            key = ExecutionKey(slot.namespace_id, slot.workflow_id, slot.run_id)
            state = (await engine.load_committed(key)).state
        except NotFoundError:
            return False
        activity = state.activities.get(slot.scheduled_event_id) if state.running else None
        return activity is not None and activity.started and activity.attempt == slot.attempt

    return alive
