"""Durable timers of the history role coming due: workflow and activity task timeouts,
activity retries, user timers, run timeouts and start backoffs.

A timer only says something may be due; each handler checks that what it guards
is still pending (the same attempt, the same scheduled event) before acting, so a
timer that outlived its purpose changes nothing and is simply removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from temporalio.api.enums.v1 import TimeoutType

from cadenza.exceptions import NotFoundError
from cadenza.history.machine import activities, nexus_operations, runs, user_timers, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.service.engine import Engine
from cadenza.persistence.records import TimerRecord
from cadenza.timers.kinds import TimerKind

TimerHandler = Callable[[Change, TimerRecord], None]


class FiredTimers(Engine):
    """Timers of a run that came due."""

    async def fire_timer(self, timer: TimerRecord) -> None:
        """A durable deadline came due; act if the thing it guards is still pending."""
        handler = HANDLERS[TimerKind(timer.kind)]  # the dispatch sends only history's kinds
        try:
            async with self.changing(timer.key) as (entry, change):
                if entry.state.running:
                    handler(change, timer)
                if change.is_empty:
                    obsolete = True  # a versioned change would only make others reload
                    await self._check_fresh(entry)
                else:
                    obsolete = False
                    change.remove_timer(timer.timer_id)
        except NotFoundError:
            obsolete = True
        if obsolete:
            await self._store.remove_stale([], [timer.timer_id])


def _on_wft_start_to_close(change: Change, timer: TimerRecord) -> None:
    wft = change.state.workflow_task
    if (
        wft is not None
        and wft.scheduled_event_id == timer.event_id
        and wft.started_event_id
        and wft.attempt == timer.attempt
    ):
        workflow_tasks.time_out(change, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)


def _on_wft_sticky_timeout(change: Change, timer: TimerRecord) -> None:
    wft = change.state.workflow_task
    if wft is not None and wft.scheduled_event_id == timer.event_id and not wft.started_event_id:
        workflow_tasks.time_out(change, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)


def _on_activity_retry(change: Change, timer: TimerRecord) -> None:
    activity = change.state.activities.get(timer.event_id)
    if activity is not None and activity.attempt == timer.attempt and not activity.started:
        activity.retry_timer_id = ""
        if activity.paused:  # paused since: the unpause dispatches the attempt
            return
        activities.enqueue(change, activity)
        # Temporal's retry timer hands the attempt to matching without writing the run.
        change.counts_as_transition = False


def _on_activity_start_to_close(change: Change, timer: TimerRecord) -> None:
    activity = change.state.activities.get(timer.event_id)
    if activity is not None and activity.attempt == timer.attempt and activity.started:
        activity.attempt_timer_id = ""
        activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)


def _on_activity_schedule_to_start(change: Change, timer: TimerRecord) -> None:
    activity = change.state.activities.get(timer.event_id)
    if activity is not None and activity.attempt == timer.attempt and not activity.started:
        activity.schedule_to_start_timer_id = ""
        activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)


def _on_activity_heartbeat(change: Change, timer: TimerRecord) -> None:
    activity = change.state.activities.get(timer.event_id)
    if activity is None or activity.attempt != timer.attempt or not activity.started:
        return
    activity.heartbeat_timer_id = ""
    if activities.heartbeat_deadline(activity) > change.now + 0.001:
        activities.rearm_heartbeat(change, activity)
    else:
        activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)


def _on_activity_schedule_to_close(change: Change, timer: TimerRecord) -> None:
    activity = change.state.activities.get(timer.event_id)
    if activity is None:
        return
    activity.timer_id = ""
    # When the attempt's own deadline is also due, Temporal judges the attempt first.
    attempt_due = (
        activity.started
        and activity.start_to_close > 0
        and activity.started_time + activity.start_to_close <= change.now + 0.001
    )
    kind = (
        TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE if attempt_due else TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
    )
    activities.time_out(change, activity, kind)


def _on_nexus_schedule_to_close(change: Change, timer: TimerRecord) -> None:
    operation = change.state.nexus_operations.get(timer.event_id)
    if operation is not None and operation.timer_id == timer.timer_id:
        operation.timer_id = ""
        nexus_operations.timed_out(change, operation)


def _on_user_timer(change: Change, timer: TimerRecord) -> None:
    user_timers.fire(change, timer.event_id)


def _on_run_timeout(change: Change, _timer: TimerRecord) -> None:
    runs.time_out(change)


def _on_backoff_elapsed(change: Change, _timer: TimerRecord) -> None:
    runs.backoff_elapsed(change)


HANDLERS: Mapping[TimerKind, TimerHandler] = MappingProxyType(
    {
        TimerKind.WFT_START_TO_CLOSE: _on_wft_start_to_close,
        TimerKind.WFT_STICKY_SCHEDULE_TO_START: _on_wft_sticky_timeout,
        TimerKind.ACTIVITY_RETRY: _on_activity_retry,
        TimerKind.ACTIVITY_START_TO_CLOSE: _on_activity_start_to_close,
        TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE: _on_activity_schedule_to_close,
        TimerKind.ACTIVITY_SCHEDULE_TO_START: _on_activity_schedule_to_start,
        TimerKind.ACTIVITY_HEARTBEAT: _on_activity_heartbeat,
        TimerKind.USER_TIMER: _on_user_timer,
        TimerKind.NEXUS_SCHEDULE_TO_CLOSE: _on_nexus_schedule_to_close,
        TimerKind.WORKFLOW_RUN_TIMEOUT: _on_run_timeout,
        TimerKind.WORKFLOW_BACKOFF: _on_backoff_elapsed,
    }
)
"""The handler of each timer kind the history role fires, built once."""
