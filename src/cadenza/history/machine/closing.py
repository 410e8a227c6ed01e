"""Closing a run: its status, and dropping everything still pending on it."""

from __future__ import annotations

from cadenza.history.machine import activities, children
from cadenza.history.machine.change import Change
from cadenza.timers.kinds import TimerKind


def close_execution(change: Change, status: int) -> None:
    """Mark the run closed; its close event must be the last event appended."""
    s = change.state
    s.status = status
    s.close_time = change.now
    s.close_event_id = change.events[-1].event_id
    change.status_changed = True
    for activity in s.activities.values():
        activities.stop_on_worker(change, activity)  # its result can no longer matter
        change.remove_task(activity.task_id)
        for timer_id in (
            activity.timer_id,
            activity.attempt_timer_id,
            activity.heartbeat_timer_id,
            activity.schedule_to_start_timer_id,
        ):
            change.remove_timer(timer_id)
    s.activities.clear()
    for timer in s.timers.values():
        change.remove_timer(timer.record_id)
    s.timers.clear()
    for operation in s.nexus_operations.values():
        change.remove_timer(operation.timer_id)
    s.nexus_operations.clear()
    if s.completion_callbacks and change.successor is None:
        change.add_timer(TimerKind.NEXUS_CALLBACK, change.now, s.close_event_id, 0)
    change.remove_timer(s.run_timer_id)
    s.run_timer_id = ""
    if s.workflow_task is not None:
        change.remove_task(s.workflow_task.task_id)
        change.remove_timer(s.workflow_task.timer_id)
        s.workflow_task = None
    s.buffered_events = []
    children.schedule_parent_close_policies(change)
    if s.parent is not None and change.successor is None:
        change.add_timer(TimerKind.NOTIFY_PARENT, change.now, s.close_event_id, 0)
