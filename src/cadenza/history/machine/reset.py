"""Resetting a workflow: a new run that replays the old one's history up to a workflow task.

The new run's history is the base run's, verbatim, through the chosen task's
WorkflowTaskStarted; that task is then recorded as failed with cause
RESET_WORKFLOW, later signals are re-applied, and a fresh task is scheduled.
Pending activities and timers at that point are rebuilt by folding the copied
events, and dispatched again.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import activities, retry, workflow_tasks
from cadenza.history.machine import events as ev
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Activity, MutableState, UserTimer
from cadenza.timers.kinds import TimerKind

E = EventType
_FINISH_TYPES = (
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
)
_ACTIVITY_CLOSES = (
    E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
)


def started_event_id(history: list[HistoryEvent], finish_event_id: int) -> int:
    """The WorkflowTaskStarted the reset goes back to, from the event the caller named."""
    if not 1 < finish_event_id <= len(history):
        raise InvalidArgumentError("Invalid WorkflowTaskFinishEventId.")
    event = history[finish_event_id - 1]
    if event.event_type == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        return finish_event_id
    if event.event_type in _FINISH_TYPES:
        return int(ev.attributes(event).started_event_id)
    raise InvalidArgumentError(
        "WorkflowTaskFinishEventId must name a workflow task completed, failed, timed out or started event."
    )


def build(
    change: Change,
    base: list[HistoryEvent],
    started_id: int,
    *,
    reason: str,
    identity: str,
    base_run_id: str,
    reapply_signals: bool,
) -> None:
    """Write the new run's history into ``change`` and rebuild its pending state."""
    s = change.state
    for original in base[:started_id]:
        copy = HistoryEvent()
        copy.CopyFrom(original)
        change.events.append(copy)
        _fold(s, copy)
    s.next_event_id = started_id + 1
    scheduled_id = base[started_id - 1].workflow_task_started_event_attributes.scheduled_event_id
    failed = change.add_event(E.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    attrs = failed.workflow_task_failed_event_attributes
    attrs.scheduled_event_id = scheduled_id
    attrs.started_event_id = started_id
    attrs.cause = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    attrs.failure.message = reason
    attrs.failure.reset_workflow_failure_info.SetInParent()
    attrs.identity = identity
    attrs.base_run_id = base_run_id
    attrs.new_run_id = s.run_id
    if reapply_signals:
        for later in base[started_id:]:
            if later.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                signal = change.add_event(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
                signal.workflow_execution_signaled_event_attributes.CopyFrom(
                    later.workflow_execution_signaled_event_attributes
                )
    _redispatch(change)
    _arm_run_timeout(change)
    workflow_tasks.schedule(change, use_sticky=False)


def _fold(s: MutableState, event: HistoryEvent) -> None:
    """Apply one copied event to the pending state it implies."""
    kind = event.event_type
    if kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        s.activities[event.event_id] = Activity(
            scheduled_event_id=event.event_id,
            activity_id=a.activity_id,
            activity_type=a.activity_type.name,
            task_queue=a.task_queue.name,
            scheduled_time=event.event_time.ToNanoseconds() / 1e9,
            schedule_to_close=ev.seconds(a.schedule_to_close_timeout),
            schedule_to_start=ev.seconds(a.schedule_to_start_timeout),
            start_to_close=ev.seconds(a.start_to_close_timeout),
            heartbeat_timeout=ev.seconds(a.heartbeat_timeout),
            retry=retry.from_proto(a.retry_policy),
        )
    elif kind in _ACTIVITY_CLOSES:
        s.activities.pop(ev.attributes(event).scheduled_event_id, None)
    elif kind == E.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
        activity = s.activities.get(event.activity_task_cancel_requested_event_attributes.scheduled_event_id)
        if activity is not None:
            activity.cancel_requested_event_id = event.event_id
    elif kind == E.EVENT_TYPE_TIMER_STARTED:
        t = event.timer_started_event_attributes
        fire_at = event.event_time.ToNanoseconds() / 1e9 + ev.seconds(t.start_to_fire_timeout)
        s.timers[t.timer_id] = UserTimer(t.timer_id, event.event_id, fire_at, "")
    elif kind in (E.EVENT_TYPE_TIMER_FIRED, E.EVENT_TYPE_TIMER_CANCELED):
        s.timers.pop(ev.attributes(event).timer_id, None)
    elif kind == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        s.previous_started_event_id = event.workflow_task_completed_event_attributes.started_event_id
    elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        s.cancel_requested = True


def _arm_run_timeout(change: Change) -> None:
    """The new run's run timeout counts from the reset, capped by its execution's, as Temporal's do."""
    s = change.state
    if s.run_timeout > 0:
        fire_at = s.start_time + s.run_timeout
        if s.execution_deadline:
            fire_at = min(fire_at, s.execution_deadline)
        s.run_timer_id = change.add_timer(TimerKind.WORKFLOW_RUN_TIMEOUT, fire_at, 1, 0)


def _redispatch(change: Change) -> None:
    """Give every rebuilt activity and timer its task or durable timer again."""
    s = change.state
    for activity in s.activities.values():
        activity.attempt_scheduled_time = change.now
        activities.enqueue(change, activity)
    for timer in s.timers.values():
        timer.record_id = change.add_timer(TimerKind.USER_TIMER, timer.fire_at, timer.started_event_id, 0)
