"""Scheduling an activity: the checks of its command, and the timeouts the server settles on."""

from __future__ import annotations

from temporalio.api.command.v1 import ScheduleActivityTaskCommandAttributes
from temporalio.api.enums.v1 import EventType

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import priorities, retry
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Activity
from cadenza.timers.kinds import TimerKind
from cadenza.validation import cap_durations, check_length, check_length_stated

MAX_PENDING_ACTIVITIES = 2000


_TIMEOUT_FIELDS = (
    ("schedule_to_close_timeout", "ScheduleToCloseTimeout"),
    ("schedule_to_start_timeout", "ScheduleToStartTimeout"),
    ("start_to_close_timeout", "StartToCloseTimeout"),
    ("heartbeat_timeout", "HeartbeatTimeout"),
)
_RETRY_FIELDS = (("initial_interval", "InitialInterval"), ("maximum_interval", "MaximumInterval"))


def validate(attrs: ScheduleActivityTaskCommandAttributes, pending: int) -> None:
    """Reject a ScheduleActivityTask command the way Temporal does."""
    if not attrs.activity_id:
        raise InvalidArgumentError("ActivityId is not set on command.")
    if not attrs.activity_type.name:
        raise InvalidArgumentError("ActivityType is not set on command.")
    check_length_stated(attrs.activity_id, "activityId")
    check_length_stated(attrs.activity_type.name, "activityType")
    check_length(attrs.task_queue.name, "taskQueue length exceeds limit")
    priorities.validate(attrs.priority)
    cap_durations(attrs, _TIMEOUT_FIELDS, "ScheduleActivityTask")
    if attrs.HasField("retry_policy"):
        cap_durations(attrs.retry_policy, _RETRY_FIELDS, "ScheduleActivityTask")
    if ev.seconds(attrs.schedule_to_close_timeout) <= 0 and ev.seconds(attrs.start_to_close_timeout) <= 0:
        raise InvalidArgumentError("A valid StartToClose or ScheduleToCloseTimeout is not set on command.")
    if pending >= MAX_PENDING_ACTIVITIES:
        raise InvalidArgumentError(
            f"the number of pending activities exceeds the limit of {MAX_PENDING_ACTIVITIES}"
        )


def schedule(
    change: Change, attrs: ScheduleActivityTaskCommandAttributes, completed_event_id: int
) -> Activity:
    """Record ActivityTaskScheduled with the timeouts and retry policy the server settles on."""
    s = change.state
    queue = attrs.task_queue.name or s.task_queue
    to_close, to_start, start_to_close, heartbeat = _timeouts(attrs, s.run_timeout)
    policy = retry.from_proto(attrs.retry_policy)
    event = change.add_event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    out = event.activity_task_scheduled_event_attributes
    out.activity_id = attrs.activity_id
    out.activity_type.CopyFrom(attrs.activity_type)
    out.task_queue.CopyFrom(ev.task_queue(queue))
    if attrs.HasField("header"):  # as the command has them: Temporal adds none
        out.header.CopyFrom(attrs.header)
    if attrs.HasField("input"):
        out.input.CopyFrom(attrs.input)
    out.schedule_to_close_timeout.CopyFrom(ev.duration(to_close))
    out.schedule_to_start_timeout.CopyFrom(ev.duration(to_start))
    out.start_to_close_timeout.CopyFrom(ev.duration(start_to_close))
    out.heartbeat_timeout.CopyFrom(ev.duration(heartbeat))
    out.workflow_task_completed_event_id = completed_event_id
    retry.to_proto(policy, out.retry_policy)
    out.use_workflow_build_id = attrs.use_workflow_build_id
    if attrs.HasField("priority"):
        out.priority.CopyFrom(attrs.priority)
    activity = Activity(
        scheduled_event_id=event.event_id,
        activity_id=attrs.activity_id,
        activity_type=attrs.activity_type.name,
        task_queue=queue,
        scheduled_time=change.now,
        schedule_to_close=to_close,
        schedule_to_start=to_start,
        start_to_close=start_to_close,
        heartbeat_timeout=heartbeat,
        retry=policy,
        attempt_scheduled_time=change.now,
        priority=priorities.from_proto(attrs),
    )
    s.activities[event.event_id] = activity
    if to_close > 0:
        activity.timer_id = change.add_timer(
            TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE, change.now + to_close, event.event_id, 0
        )
    return activity


def _timeouts(
    attrs: ScheduleActivityTaskCommandAttributes, run_timeout: float
) -> tuple[float, float, float, float]:
    """Temporal's rules for filling in and capping the four activity timeouts."""
    to_close = ev.seconds(attrs.schedule_to_close_timeout)
    to_start = ev.seconds(attrs.schedule_to_start_timeout)
    start_to_close = ev.seconds(attrs.start_to_close_timeout)
    heartbeat = ev.seconds(attrs.heartbeat_timeout)
    if run_timeout > 0:
        to_close = min(to_close, run_timeout) if to_close > 0 else run_timeout
    if to_close > 0:
        to_start = min(to_start, to_close) if to_start > 0 else to_close
        start_to_close = min(start_to_close, to_close) if start_to_close > 0 else to_close
    if start_to_close > 0:
        heartbeat = min(heartbeat, start_to_close)
    return to_close, to_start, start_to_close, heartbeat
