"""PauseActivity, UnpauseActivity, ResetActivity and UpdateActivityOptions on a run's
pending activities; they write no history event, as in Temporal."""

from __future__ import annotations

import random
from dataclasses import dataclass

from temporalio.api.activity.v1 import ActivityOptions

from cadenza.history.machine import activity_ops, visibility_fields
from cadenza.history.machine.activity_ops import Selection
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import ExecutionKey


@dataclass(frozen=True)
class Restart:
    """How an unpause or reset dispatches a waiting attempt again."""

    reset_attempts: bool = False
    reset_heartbeat: bool = False
    keep_paused: bool = False
    jitter: float = 0.0
    """Dispatch at a random moment within this many seconds, rather than at once."""

    def delay(self) -> float:
        return random.uniform(0, self.jitter) if self.jitter > 0 else 0.0


class ActivityOperations(Engine):
    """Operator actions on pending activities, by ID, by type, or all of a run's."""

    async def pause_activities(
        self, key: ExecutionKey, selection: Selection, identity: str, reason: str
    ) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            for activity in activity_ops.selected(entry.state, selection):
                activity_ops.pause(change, activity, identity, reason)
            visibility_fields.record_pause_info(entry.state)

    async def unpause_activities(self, key: ExecutionKey, selection: Selection, restart: Restart) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            for activity in activity_ops.selected(entry.state, selection):
                activity_ops.unpause(
                    change,
                    activity,
                    reset_attempts=restart.reset_attempts,
                    reset_heartbeat=restart.reset_heartbeat,
                    delay=restart.delay(),
                )
            visibility_fields.record_pause_info(entry.state)

    async def reset_activities(self, key: ExecutionKey, selection: Selection, restart: Restart) -> None:
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            for activity in activity_ops.selected(entry.state, selection):
                activity_ops.reset(
                    change,
                    activity,
                    reset_heartbeat=restart.reset_heartbeat,
                    keep_paused=restart.keep_paused,
                    delay=restart.delay(),
                )
            visibility_fields.record_pause_info(entry.state)

    async def update_activity_options(
        self, key: ExecutionKey, selection: Selection, options: ActivityOptions, mask: list[str]
    ) -> ActivityOptions:
        """Apply the masked options; return the options of the (last) activity updated."""
        async with self.changing(key) as (entry, change):
            self._require_running(entry.state)
            updated = ActivityOptions()
            for activity in activity_ops.selected(entry.state, selection):
                activity_ops.update_options(change, activity, options, mask)
                updated = activity_ops.options_of(activity)
            return updated
