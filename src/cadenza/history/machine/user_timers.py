"""Timers a workflow starts with StartTimer and may cancel with CancelTimer."""

from __future__ import annotations

from temporalio.api.command.v1 import CancelTimerCommandAttributes, StartTimerCommandAttributes
from temporalio.api.enums.v1 import EventType

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import UserTimer
from cadenza.timers.kinds import TimerKind
from cadenza.validation import cap_durations, check_on_command


def validate_start(attrs: StartTimerCommandAttributes) -> None:
    if not attrs.timer_id:
        raise InvalidArgumentError("TimerId is not set on command.")
    check_on_command(attrs.timer_id, "TimerId", "StartTimer")
    # Zero fires at once, as on Temporal.
    cap_durations(attrs, (("start_to_fire_timeout", "StartToFireTimeout"),), "StartTimer")


def start(change: Change, attrs: StartTimerCommandAttributes, completed_event_id: int) -> None:
    event = change.add_event(EventType.EVENT_TYPE_TIMER_STARTED)
    out = event.timer_started_event_attributes
    out.timer_id = attrs.timer_id
    out.start_to_fire_timeout.CopyFrom(attrs.start_to_fire_timeout)
    out.workflow_task_completed_event_id = completed_event_id
    fire_at = change.now + ev.seconds(attrs.start_to_fire_timeout)
    record_id = change.add_timer(TimerKind.USER_TIMER, fire_at, event.event_id, 0)
    change.state.timers[attrs.timer_id] = UserTimer(attrs.timer_id, event.event_id, fire_at, record_id)


def cancel(
    change: Change, attrs: CancelTimerCommandAttributes, completed_event_id: int, identity: str
) -> None:
    timer = change.state.timers.pop(attrs.timer_id)
    change.remove_timer(timer.record_id)
    event = change.add_event(EventType.EVENT_TYPE_TIMER_CANCELED)
    out = event.timer_canceled_event_attributes
    out.timer_id = timer.timer_id
    out.started_event_id = timer.started_event_id
    out.workflow_task_completed_event_id = completed_event_id
    out.identity = identity


def fire(change: Change, started_event_id: int) -> None:
    """The durable timer came due: record TimerFired if the workflow still waits on it."""
    timer = next((t for t in change.state.timers.values() if t.started_event_id == started_event_id), None)
    if timer is None:
        return
    del change.state.timers[timer.timer_id]
    event = change.add_or_buffer(EventType.EVENT_TYPE_TIMER_FIRED)
    out = event.timer_fired_event_attributes
    out.timer_id = timer.timer_id
    out.started_event_id = timer.started_event_id
    workflow_tasks.ensure_scheduled(change)
