"""Whether a slot's holder still runs, and whether a commit may have ended one unseen, read from
the engine (for the sweep of stale slots)."""

from __future__ import annotations

from cadenza.concurrency.slots import HolderAlive, UnseenCommits
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


def unseen_commits(engine: Engine) -> UnseenCommits:
    """``unseen_commits`` for the slots: whether the engine met a commit whose outcome stayed
    unknown since last asked (it may have ended a holder without a word to the slots)."""
    seen = engine.unsure_commits

    def met_since() -> bool:
        nonlocal seen
        met, seen = engine.unsure_commits != seen, engine.unsure_commits
        return met

    return met_since
