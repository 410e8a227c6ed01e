"""Operator actions on a pending activity: pause, unpause, reset and new options.

As in Temporal, none of them writes a history event: they change the activity's
pending state only. A running attempt is never taken from its worker; the worker
learns of a pause or reset on its next heartbeat and decides what to do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from temporalio.api.activity.v1 import ActivityOptions

from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import activities, retry
from cadenza.history.machine import events as ev
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Activity, MutableState


@dataclass(frozen=True)
class Selection:
    """Which pending activities an operation acts on: one by ID, all of a type, or all."""

    activity_id: str = ""
    activity_type: str = ""
    every: bool = False

    def check(self) -> None:
        # The request's ID, type and match-all flag are one protobuf oneof: at most one is set.
        if not (self.activity_id or self.activity_type or self.every):
            raise InvalidArgumentError("Either Activity.Id or Activity.Type should be set on request.")

    def matches(self, activity: Activity) -> bool:
        if self.every:
            return True
        if self.activity_id:
            return activity.activity_id == self.activity_id
        return activity.activity_type == self.activity_type


def selected(state: MutableState, selection: Selection) -> list[Activity]:
    """The pending activities the selection names; NotFoundError if there is none."""
    selection.check()
    found = [a for a in state.activities.values() if selection.matches(a)] if state.running else []
    if not found and not selection.every:
        raise NotFoundError(
            "Can't find pending activity with such ID. Invalid activityID or activity already completed"
        )
    return found


def pause(change: Change, activity: Activity, identity: str, reason: str) -> None:
    """Hold the activity: an attempt waiting for a worker or a retry is not dispatched until
    unpaused; a running attempt goes on, and a failure of it waits instead of retrying."""
    if activity.paused:
        return
    activity.paused = True
    activity.pause_time = change.now
    activity.pause_identity = identity
    activity.pause_reason = reason
    if not activity.started:
        _withdraw_attempt(change, activity)
    change.state_changed = True


def unpause(
    change: Change, activity: Activity, *, reset_attempts: bool, reset_heartbeat: bool, delay: float
) -> None:
    """Let the activity run again: an attempt that waited is dispatched after ``delay``."""
    if not activity.paused:
        return
    activity.paused = False
    activity.pause_time = 0.0
    activity.pause_identity = activity.pause_reason = ""
    if reset_heartbeat:
        _forget_heartbeats(activity)
    if not activity.started:
        if reset_attempts:
            activity.attempt = 1
        activity.last_failure = ""  # as in Temporal: the attempt dispatched anew reports none
        _dispatch_again(change, activity, delay)
    elif reset_attempts:
        activity.reset_requested = True
    change.state_changed = True


def reset(
    change: Change, activity: Activity, *, reset_heartbeat: bool, keep_paused: bool, delay: float
) -> None:
    """Start the attempt count over; an activity waiting to retry is dispatched after ``delay``.

    A running attempt keeps running (its worker is told on its next heartbeat), and
    the attempt count starts over when it ends.
    """
    if not keep_paused:
        activity.paused = False
        activity.pause_time = 0.0
        activity.pause_identity = activity.pause_reason = ""
    if reset_heartbeat:
        _forget_heartbeats(activity)
    if activity.started:
        activity.reset_requested = True
    else:
        activity.attempt = 1
        activity.last_failure = ""
        _withdraw_attempt(change, activity)
        if not activity.paused:
            _dispatch_again(change, activity, delay)
    change.state_changed = True


def update_options(change: Change, activity: Activity, options: ActivityOptions, mask: list[str]) -> None:
    """Apply the masked fields of ``options``; later attempts run with them.

    A new task queue applies from the next dispatch: an attempt waiting on the old
    queue is moved to the new one.
    """
    for path in mask:
        _apply_option(activity, options, path)
    if activity.start_to_close > 0:
        activity.heartbeat_timeout = min(activity.heartbeat_timeout, activity.start_to_close)
    if activity.task_id and not activity.started and "task_queue.name" in mask:
        _withdraw_attempt(change, activity)
        _dispatch_again(change, activity, 0.0)
    change.state_changed = True


def options_of(activity: Activity) -> ActivityOptions:
    """The options the activity runs with, as Temporal describes them."""
    out = ActivityOptions()
    out.task_queue.name = out.task_queue.normal_name = activity.task_queue
    out.schedule_to_close_timeout.CopyFrom(ev.duration(activity.schedule_to_close))
    out.schedule_to_start_timeout.CopyFrom(ev.duration(activity.schedule_to_start))
    out.start_to_close_timeout.CopyFrom(ev.duration(activity.start_to_close))
    out.heartbeat_timeout.CopyFrom(ev.duration(activity.heartbeat_timeout))
    policy = activity.retry
    out.retry_policy.initial_interval.CopyFrom(ev.duration(policy.initial_interval))
    out.retry_policy.backoff_coefficient = policy.backoff_coefficient
    out.retry_policy.maximum_interval.CopyFrom(ev.duration(policy.maximum_interval))
    out.retry_policy.maximum_attempts = policy.maximum_attempts
    return out


_DURATION_OPTIONS = {
    "schedule_to_close_timeout": "schedule_to_close",
    "schedule_to_start_timeout": "schedule_to_start",
    "start_to_close_timeout": "start_to_close",
    "heartbeat_timeout": "heartbeat_timeout",
}
_RETRY_OPTIONS = ("initial_interval", "backoff_coefficient", "maximum_interval", "maximum_attempts")


def _apply_option(activity: Activity, options: ActivityOptions, path: str) -> None:
    """Set one field the update mask names."""
    name = _MASK_ALIASES.get(path, path)
    if name in _DURATION_OPTIONS:
        setattr(activity, _DURATION_OPTIONS[name], ev.seconds(getattr(options, name)))
    elif name in ("task_queue", "task_queue.name"):
        if not options.task_queue.name:
            raise InvalidArgumentError("TaskQueue is not set on request.")
        activity.task_queue = options.task_queue.name
    elif name == "retry_policy":
        activity.retry = retry.from_proto(options.retry_policy)
    elif name.startswith("retry_policy.") and name.split(".", 1)[1] in _RETRY_OPTIONS:
        field = name.split(".", 1)[1]
        given = retry.from_proto(options.retry_policy)
        activity.retry = dataclasses.replace(activity.retry, **{field: getattr(given, field)})
    # Temporal ignores a path naming no option it can change; so does Cadenza.


_MASK_ALIASES = {
    "scheduleToCloseTimeout": "schedule_to_close_timeout",
    "scheduleToStartTimeout": "schedule_to_start_timeout",
    "startToCloseTimeout": "start_to_close_timeout",
    "heartbeatTimeout": "heartbeat_timeout",
    "taskQueue": "task_queue",
    "taskQueue.name": "task_queue.name",
    "retryPolicy": "retry_policy",
    "retryPolicy.initialInterval": "retry_policy.initial_interval",
    "retryPolicy.backoffCoefficient": "retry_policy.backoff_coefficient",
    "retryPolicy.maximumInterval": "retry_policy.maximum_interval",
    "retryPolicy.maximumAttempts": "retry_policy.maximum_attempts",
}
"""The camel-case paths the CLI and JSON clients send, as the fields they name."""


def _withdraw_attempt(change: Change, activity: Activity) -> None:
    """Take back an attempt not yet started: its queued task and its waiting timers."""
    change.remove_task(activity.task_id)
    change.remove_timer(activity.schedule_to_start_timer_id)
    change.remove_timer(activity.retry_timer_id)
    activity.task_id = activity.schedule_to_start_timer_id = activity.retry_timer_id = ""


def _dispatch_again(change: Change, activity: Activity, delay: float) -> None:
    change.remove_timer(activity.retry_timer_id)
    activity.attempt_scheduled_time = change.now + delay
    if delay > 0:
        activities.schedule_retry(change, activity, delay)
    else:
        activity.retry_timer_id = ""
        activities.enqueue(change, activity)


def _forget_heartbeats(activity: Activity) -> None:
    activity.heartbeat_details = ""
    activity.last_heartbeat_time = 0.0
