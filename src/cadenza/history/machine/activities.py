"""Activities after they are scheduled: attempts, heartbeats, retries, timeouts and closing events."""

from __future__ import annotations

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType, RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure

from cadenza.history.machine import retry, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.encoded import decode_blob, encode_blob
from cadenza.history.machine.state import Activity, MutableState
from cadenza.history.machine.tokens import TaskToken
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind


def enqueue(change: Change, activity: Activity) -> None:
    """Put the activity's current attempt on its task queue for a worker to poll; while the
    run is paused the attempt is held, and the unpause dispatches it."""
    if change.state.paused:
        return
    activity.task_id = change.add_task(
        TaskKind.ACTIVITY,
        activity.task_queue,
        activity.scheduled_event_id,
        activity.attempt,
        activity.priority.merged_over(change.state.priority),
    )
    if activity.schedule_to_start > 0:
        activity.schedule_to_start_timer_id = change.add_timer(
            TimerKind.ACTIVITY_SCHEDULE_TO_START,
            change.now + activity.schedule_to_start,
            activity.scheduled_event_id,
            activity.attempt,
        )


def record_started(
    change: Change, activity: Activity, identity: str, request_id: str, control_queue: str = ""
) -> None:
    """Mark the attempt running; no event is written until it closes, as in Temporal.

    ``control_queue`` is where the worker process taking the attempt listens for commands.
    """
    change.remove_task(activity.task_id)
    change.remove_timer(activity.schedule_to_start_timer_id)
    activity.task_id = ""
    activity.schedule_to_start_timer_id = ""
    activity.started_time = change.now
    activity.last_heartbeat_time = 0.0
    activity.identity = identity
    activity.request_id = request_id
    activity.control_queue = control_queue
    if activity.heartbeat_timeout > 0:
        activity.heartbeat_timer_id = change.add_timer(
            TimerKind.ACTIVITY_HEARTBEAT,
            change.now + activity.heartbeat_timeout,
            activity.scheduled_event_id,
            activity.attempt,
        )
    if activity.start_to_close > 0:
        activity.attempt_timer_id = change.add_timer(
            TimerKind.ACTIVITY_START_TO_CLOSE,
            change.now + activity.start_to_close,
            activity.scheduled_event_id,
            activity.attempt,
        )


def task_token(state: MutableState, activity: Activity) -> TaskToken:
    """The token of the activity's current attempt, as its worker was given it."""
    return TaskToken(
        state.namespace_id,
        state.workflow_id,
        state.run_id,
        activity.scheduled_event_id,
        activity.attempt,
        activity_id=activity.activity_id,
    )


def stop_on_worker(change: Change, activity: Activity) -> None:
    """The running attempt ends without its worker's answer: tell the worker to cancel it."""
    if activity.started and activity.control_queue:
        change.cancel_on_worker(activity.control_queue, task_token(change.state, activity).encode())


def complete(change: Change, activity: Activity, result: Payloads | None, identity: str) -> None:
    started_id = _close(change, activity)
    event = change.add_or_buffer(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    attrs = event.activity_task_completed_event_attributes
    if result is not None:
        attrs.result.CopyFrom(result)
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.started_event_id = started_id
    attrs.identity = identity
    workflow_tasks.ensure_scheduled(change)


def fail_attempt(change: Change, activity: Activity, failure: Failure, identity: str) -> None:
    """An attempt failed: retry after the backoff, or close the activity as failed."""
    _restart_count_if_reset(activity)
    deadline = activity.scheduled_time + activity.schedule_to_close if activity.schedule_to_close else 0
    decision = retry.decide(activity.retry, activity.attempt, failure, change.now, deadline)
    if decision.delay is not None:
        _retry_later(change, activity, failure, decision.delay)
        return
    started_id = _close(change, activity)
    event = change.add_or_buffer(EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
    attrs = event.activity_task_failed_event_attributes
    attrs.failure.CopyFrom(failure)
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.started_event_id = started_id
    attrs.identity = identity
    attrs.retry_state = decision.retry_state  # type: ignore[assignment]
    workflow_tasks.ensure_scheduled(change)


def time_out(change: Change, activity: Activity, timeout_type: int) -> None:
    """A timeout fired for the attempt (or the whole activity): retry or close as timed out."""
    failure = _timeout_failure(activity, timeout_type, f"activity {_timeout_name(timeout_type)} timeout")
    stop_on_worker(change, activity)
    _restart_count_if_reset(activity)
    if timeout_type in _RETRYABLE_TIMEOUTS:
        deadline = activity.scheduled_time + activity.schedule_to_close if activity.schedule_to_close else 0
        decision = retry.decide(activity.retry, activity.attempt, failure, change.now, deadline)
        if decision.delay is not None:
            _retry_later(change, activity, failure, decision.delay)
            return
        retry_state = decision.retry_state
        if retry_state == RetryState.RETRY_STATE_TIMEOUT:
            failure = _timeout_failure(
                activity,
                TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
                "Not enough time to schedule next retry before activity ScheduleToClose timeout, "
                "giving up retrying",
            )
    else:
        retry_state = RetryState.RETRY_STATE_TIMEOUT
    started_id = _close(change, activity) if activity.started else _close_unstarted(change, activity)
    event = change.add_or_buffer(EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
    attrs = event.activity_task_timed_out_event_attributes
    attrs.failure.CopyFrom(failure)
    if activity.last_failure and not activity.started:
        attrs.failure.cause.CopyFrom(Failure.FromString(decode_blob(activity.last_failure)))
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.started_event_id = started_id
    attrs.retry_state = retry_state  # type: ignore[assignment]
    workflow_tasks.ensure_scheduled(change)


def _timeout_failure(activity: Activity, timeout_type: int, message: str) -> Failure:
    failure = Failure(message=message, source="Server")
    failure.timeout_failure_info.timeout_type = timeout_type  # type: ignore[assignment]
    if activity.heartbeat_details:
        failure.timeout_failure_info.last_heartbeat_details.CopyFrom(
            Payloads.FromString(decode_blob(activity.heartbeat_details))
        )
    return failure


_RETRYABLE_TIMEOUTS = (TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)


def heartbeat(change: Change, activity: Activity, details: Payloads | None) -> None:
    """Record liveness and progress; the details reach the next attempt if this one fails."""
    activity.last_heartbeat_time = change.now
    if details is not None:
        activity.heartbeat_details = encode_blob(details.SerializeToString())
    change.state_changed = True


def heartbeat_deadline(activity: Activity) -> float:
    return max(activity.started_time, activity.last_heartbeat_time) + activity.heartbeat_timeout


def rearm_heartbeat(change: Change, activity: Activity) -> None:
    """The heartbeat timer fired early because heartbeats arrived: wait for the new deadline."""
    activity.heartbeat_timer_id = change.add_timer(
        TimerKind.ACTIVITY_HEARTBEAT,
        heartbeat_deadline(activity),
        activity.scheduled_event_id,
        activity.attempt,
    )


def request_cancel(change: Change, activity: Activity, completed_event_id: int) -> None:
    """The workflow asked to cancel: a running attempt learns of it on its next heartbeat,
    or at once from a push to its worker process."""
    event = change.add_event(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
    attrs = event.activity_task_cancel_requested_event_attributes
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.workflow_task_completed_event_id = completed_event_id
    activity.cancel_requested_event_id = event.event_id
    stop_on_worker(change, activity)
    if not activity.started:
        _close_unstarted(change, activity)
        canceled = change.add_event(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
        out = canceled.activity_task_canceled_event_attributes
        out.latest_cancel_requested_event_id = event.event_id
        out.scheduled_event_id = activity.scheduled_event_id
        change.needs_workflow_task = True


def canceled(change: Change, activity: Activity, details: Payloads | None, identity: str) -> None:
    """The worker confirmed the cancellation."""
    started_id = _close(change, activity)
    event = change.add_or_buffer(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
    attrs = event.activity_task_canceled_event_attributes
    if details is not None:
        attrs.details.CopyFrom(details)
    attrs.latest_cancel_requested_event_id = activity.cancel_requested_event_id
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.started_event_id = started_id
    attrs.identity = identity
    workflow_tasks.ensure_scheduled(change)


def _retry_later(change: Change, activity: Activity, failure: Failure, delay: float) -> None:
    _drop_attempt_timers(change, activity)
    remembered = Failure()
    remembered.CopyFrom(failure)
    if remembered.HasField("timeout_failure_info"):
        # The next attempt receives the details themselves; Temporal keeps them out of lastFailure.
        remembered.timeout_failure_info.ClearField("last_heartbeat_details")
    activity.last_failure = encode_blob(remembered.SerializeToString())
    activity.attempt += 1
    activity.started_time = 0.0
    activity.identity = ""
    activity.request_id = ""
    activity.control_queue = ""
    activity.reset_requested = False
    activity.attempt_scheduled_time = change.now + delay
    if not activity.paused:  # a paused activity waits for its unpause instead
        schedule_retry(change, activity, delay)


def schedule_retry(change: Change, activity: Activity, delay: float) -> None:
    """Dispatch the activity's current attempt after ``delay`` seconds."""
    activity.retry_timer_id = change.add_timer(
        TimerKind.ACTIVITY_RETRY, change.now + delay, activity.scheduled_event_id, activity.attempt
    )


def _restart_count_if_reset(activity: Activity) -> None:
    """An attempt that was running when the activity was reset ends as its first attempt."""
    if activity.reset_requested:
        activity.attempt = 1
        activity.reset_requested = False


def _drop_attempt_timers(change: Change, activity: Activity) -> None:
    for timer_id in (
        activity.attempt_timer_id,
        activity.heartbeat_timer_id,
        activity.schedule_to_start_timer_id,
        activity.retry_timer_id,
    ):
        change.remove_timer(timer_id)
    activity.attempt_timer_id = activity.heartbeat_timer_id = ""
    activity.schedule_to_start_timer_id = activity.retry_timer_id = ""


def _close(change: Change, activity: Activity) -> int:
    """Write the deferred ActivityTaskStarted event and drop the activity; return its ID.

    While a workflow task runs the event is buffered and has no ID yet; the
    closing event's ``started_event_id`` is fixed when the buffer is flushed.
    """
    change.remove_timer(activity.timer_id)
    _drop_attempt_timers(change, activity)
    change.remove_task(activity.task_id)
    event = change.add_or_buffer(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    attrs = event.activity_task_started_event_attributes
    attrs.scheduled_event_id = activity.scheduled_event_id
    attrs.identity = activity.identity
    attrs.request_id = activity.request_id
    attrs.attempt = activity.attempt
    if activity.last_failure:
        attrs.last_failure.CopyFrom(Failure.FromString(decode_blob(activity.last_failure)))
    del change.state.activities[activity.scheduled_event_id]
    return event.event_id


def _close_unstarted(change: Change, activity: Activity) -> int:
    change.remove_timer(activity.timer_id)
    _drop_attempt_timers(change, activity)
    change.remove_task(activity.task_id)
    del change.state.activities[activity.scheduled_event_id]
    return 0


_TIMEOUT_NAMES: dict[int, str] = {
    TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE: "StartToClose",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START: "ScheduleToStart",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "ScheduleToClose",
    TimeoutType.TIMEOUT_TYPE_HEARTBEAT: "Heartbeat",
}


def _timeout_name(timeout_type: int) -> str:
    return _TIMEOUT_NAMES.get(timeout_type, "unknown")
