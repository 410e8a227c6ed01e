"""Activities: scheduled with settled timeouts, started, retried with backoff, closed."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import RetryPolicy
from temporalio.api.enums.v1 import EventType, RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import activities, activity_scheduling
from cadenza.history.machine import events as ev
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import Activity
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import (
    T0,
    TASK_QUEUE,
    Run,
    duration,
    payloads,
    schedule_activity,
    start_request,
    started_run,
)

E = EventType


def with_activity(**kwargs: object) -> tuple[Run, Activity]:
    run = started_run(kwargs.pop("request", None))  # type: ignore[arg-type]
    run.complete_task(schedule_activity(**kwargs))  # type: ignore[arg-type]
    [activity] = run.state.activities.values()
    return run, activity


def start(run: Run, activity: Activity, control_queue: str = "") -> None:
    change = run.change()
    activities.record_started(change, activity, "act-worker", "req", control_queue)
    run.commit(change)


def failure(kind: str = "Boom") -> Failure:
    f = Failure(message="boom")
    f.application_failure_info.type = kind
    return f


def fail(run: Run, activity: Activity, f: Failure | None = None) -> None:
    change = run.change()
    activities.fail_attempt(change, activity, f or failure(), "act-worker")
    run.commit(change)


def test_scheduling_writes_the_event_with_the_settled_attributes() -> None:
    run, activity = with_activity(start_to_close=10, heartbeat=3)
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    attrs = event.activity_task_scheduled_event_attributes
    assert (attrs.activity_id, attrs.activity_type.name, attrs.task_queue.name) == ("a1", "Act", TASK_QUEUE)
    assert ev.seconds(attrs.start_to_close_timeout) == 10
    assert ev.seconds(attrs.heartbeat_timeout) == 3
    assert ev.seconds(attrs.schedule_to_close_timeout) == 0
    assert attrs.workflow_task_completed_event_id == event.event_id - 1
    assert attrs.retry_policy.maximum_attempts == 0
    assert ev.seconds(attrs.retry_policy.initial_interval) == 1
    assert activity.scheduled_event_id == event.event_id


def test_scheduling_enqueues_an_activity_task() -> None:
    run, activity = with_activity()
    [task] = [t for t in run.last.tasks_added if t.kind == TaskKind.ACTIVITY]  # type: ignore[union-attr]
    assert (task.task_queue, task.scheduled_event_id, task.attempt) == (
        TASK_QUEUE,
        activity.scheduled_event_id,
        1,
    )


def test_an_activity_may_name_its_own_task_queue() -> None:
    _run, activity = with_activity(task_queue="other")
    assert activity.task_queue == "other"


@pytest.mark.parametrize(
    ("given", "run_timeout", "expected"),
    [
        # (to_close, to_start, start_to_close, heartbeat) given -> settled
        ((0, 0, 10, 0), 0, (0, 0, 10, 0)),
        ((30, 0, 0, 0), 0, (30, 30, 30, 0)),
        ((30, 5, 60, 0), 0, (30, 5, 30, 0)),
        ((0, 0, 10, 20), 0, (0, 0, 10, 10)),
        ((0, 0, 10, 0), 8, (8, 8, 8, 0)),
        ((100, 0, 10, 0), 50, (50, 50, 10, 0)),
    ],
)
def test_timeouts_are_settled_as_temporal_settles_them(
    given: tuple[float, float, float, float], run_timeout: float, expected: tuple[float, float, float, float]
) -> None:
    cmd = schedule_activity(
        schedule_to_close=given[0], schedule_to_start=given[1], start_to_close=given[2], heartbeat=given[3]
    )
    attrs = cmd.schedule_activity_task_command_attributes
    assert activity_scheduling._timeouts(attrs, run_timeout) == expected


def test_schedule_to_close_arms_a_timer_at_scheduling() -> None:
    run, activity = with_activity(schedule_to_close=30)
    timer = next(
        t
        for t in run.last.timers_added  # type: ignore[union-attr]
        if t.kind == TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE
    )
    assert timer.fire_at == T0 + 30 and activity.timer_id == timer.timer_id


def test_schedule_to_start_arms_a_timer_when_enqueued() -> None:
    run, activity = with_activity(schedule_to_start=4, start_to_close=10)
    timer = next(
        t
        for t in run.last.timers_added  # type: ignore[union-attr]
        if t.kind == TimerKind.ACTIVITY_SCHEDULE_TO_START
    )
    assert timer.fire_at == T0 + 4 and timer.attempt == 1
    assert activity.schedule_to_start_timer_id == timer.timer_id


def test_starting_writes_no_event_but_arms_the_attempt_timers() -> None:
    run, activity = with_activity(start_to_close=10, heartbeat=3)
    before = len(run.history)
    run.clock.advance(1)
    start(run, activity)
    assert len(run.history) == before
    kinds = {t.kind: t.fire_at for t in run.last.timers_added}  # type: ignore[union-attr]
    assert kinds == {TimerKind.ACTIVITY_START_TO_CLOSE: T0 + 11, TimerKind.ACTIVITY_HEARTBEAT: T0 + 4}
    assert activity.started and activity.identity == "act-worker"


def test_completion_writes_started_and_completed_and_schedules_a_workflow_task() -> None:
    run, activity = with_activity()
    start(run, activity)
    change = run.change()
    activities.complete(change, activity, payloads(b"1"), "act-worker")
    run.commit(change)
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    started, completed = run.history[-3], run.history[-2]
    assert started.activity_task_started_event_attributes.attempt == 1
    done = completed.activity_task_completed_event_attributes
    assert done.started_event_id == started.event_id
    assert done.scheduled_event_id == activity.scheduled_event_id
    assert done.result.payloads[0].data == b"1"
    assert run.state.activities == {}


def test_a_failed_attempt_is_retried_after_the_backoff_without_events() -> None:
    run, activity = with_activity(retry=RetryPolicy(initial_interval=duration(2)))
    start(run, activity)
    before = len(run.history)
    fail(run, activity)
    assert len(run.history) == before
    assert activity.attempt == 2 and not activity.started
    [timer] = [
        t
        for t in run.last.timers_added  # type: ignore[union-attr]
        if t.kind == TimerKind.ACTIVITY_RETRY
    ]
    assert (timer.fire_at, timer.attempt) == (T0 + 2, 2)
    assert activity.attempt_scheduled_time == T0 + 2


def test_the_backoff_grows_with_each_attempt() -> None:
    run, activity = with_activity(retry=RetryPolicy(initial_interval=duration(1), backoff_coefficient=3))
    delays = []
    for _ in range(3):
        start(run, activity)
        fail(run, activity)
        [timer] = [
            t
            for t in run.last.timers_added  # type: ignore[union-attr]
            if t.kind == TimerKind.ACTIVITY_RETRY
        ]
        delays.append(timer.fire_at - run.clock.now())
    assert delays == [1, 3, 9]


def test_the_last_attempt_closes_the_activity_as_failed() -> None:
    run, activity = with_activity(retry=RetryPolicy(maximum_attempts=2))
    start(run, activity)
    fail(run, activity)
    start(run, activity)
    fail(run, activity)
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    started = run.history[-3].activity_task_started_event_attributes
    assert started.attempt == 2 and started.last_failure.message == "boom"
    attrs = run.history[-2].activity_task_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


def test_a_non_retryable_error_type_closes_at_once() -> None:
    run, activity = with_activity(retry=RetryPolicy(non_retryable_error_types=["Fatal"]))
    start(run, activity)
    fail(run, activity, failure("Fatal"))
    attrs = run.history[-2].activity_task_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE


def test_a_retry_past_schedule_to_close_is_not_made() -> None:
    run, activity = with_activity(
        schedule_to_close=5, start_to_close=5, retry=RetryPolicy(initial_interval=duration(10))
    )
    start(run, activity)
    fail(run, activity)
    attrs = run.history[-2].activity_task_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_TIMEOUT


def test_start_to_close_timeout_is_retried() -> None:
    run, activity = with_activity(start_to_close=5)
    start(run, activity)
    run.clock.advance(5)
    change = run.change()
    activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
    run.commit(change)
    assert activity.attempt == 2 and change.events == []
    last = Failure.FromString(decode_blob(activity.last_failure))
    assert last.message == "activity StartToClose timeout"


def test_schedule_to_start_timeout_closes_the_activity_without_a_started_event() -> None:
    run, activity = with_activity(schedule_to_start=2, start_to_close=10)
    run.clock.advance(2)
    change = run.change()
    activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)
    run.commit(change)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    attrs = run.history[-2].activity_task_timed_out_event_attributes
    assert attrs.started_event_id == 0
    assert attrs.retry_state == RetryState.RETRY_STATE_TIMEOUT
    assert attrs.failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START


def test_heartbeat_timeout_carries_the_last_details() -> None:
    run, activity = with_activity(start_to_close=10, heartbeat=2, retry=RetryPolicy(maximum_attempts=1))
    start(run, activity)
    change = run.change()
    activities.heartbeat(change, activity, payloads(b'"half"'))
    run.commit(change)
    run.clock.advance(2)
    change = run.change()
    activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)
    run.commit(change)
    attrs = run.history[-2].activity_task_timed_out_event_attributes
    info = attrs.failure.timeout_failure_info
    assert info.timeout_type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT
    assert info.last_heartbeat_details.payloads[0].data == b'"half"'
    assert attrs.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


def test_a_heartbeat_moves_the_heartbeat_deadline() -> None:
    run, activity = with_activity(start_to_close=100, heartbeat=10)
    start(run, activity)
    assert activities.heartbeat_deadline(activity) == T0 + 10
    run.clock.advance(7)
    change = run.change()
    activities.heartbeat(change, activity, None)
    assert activities.heartbeat_deadline(activity) == T0 + 17
    activities.rearm_heartbeat(change, activity)
    assert change.timers_added[-1].fire_at == T0 + 17


def test_cancel_of_an_unstarted_activity_closes_it_at_once() -> None:
    run, activity = with_activity()
    change = run.change()
    activities.request_cancel(change, activity, 4)
    run.commit(change)
    assert [e.event_type for e in change.events] == [
        E.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    ]
    canceled = change.events[1].activity_task_canceled_event_attributes
    assert canceled.latest_cancel_requested_event_id == change.events[0].event_id
    assert change.needs_workflow_task and run.state.activities == {}


def test_cancel_of_a_started_activity_asks_its_worker() -> None:
    run, activity = with_activity()
    start(run, activity, control_queue="ctl")
    change = run.change()
    activities.request_cancel(change, activity, 4)
    assert [e.event_type for e in change.events] == [E.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED]
    assert activity.cancel_requested
    assert list(change.worker_cancels) == ["ctl"]
    assert run.state.activities


def test_the_worker_confirms_a_cancellation() -> None:
    run, activity = with_activity()
    start(run, activity)
    change = run.change()
    activities.request_cancel(change, activity, 4)
    run.commit(change)
    change = run.change()
    activities.canceled(change, activity, payloads(b"d"), "act-worker")
    run.commit(change)
    attrs = run.history[-2].activity_task_canceled_event_attributes
    assert attrs.latest_cancel_requested_event_id == activity.cancel_requested_event_id
    assert attrs.details.payloads[0].data == b"d"
    assert attrs.started_event_id == run.history[-3].event_id


def test_an_activity_closing_while_a_task_runs_is_buffered() -> None:
    run, activity = with_activity()
    start(run, activity)
    run.next_task()
    change = run.change()
    activities.complete(change, activity, None, "act-worker")
    run.commit(change)
    assert change.events == [] and len(run.state.buffered_events) == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a: setattr(a, "activity_id", ""), "ActivityId is not set"),
        (lambda a: a.activity_type.ClearField("name"), "ActivityType is not set"),
        (lambda a: a.ClearField("start_to_close_timeout"), "StartToClose or ScheduleToCloseTimeout"),
    ],
)
def test_a_bad_schedule_command_is_refused(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    attrs = schedule_activity().schedule_activity_task_command_attributes
    mutate(attrs)
    with pytest.raises(InvalidArgumentError, match=message):
        activity_scheduling.validate(attrs, 0)


def test_too_many_pending_activities_are_refused() -> None:
    attrs = schedule_activity().schedule_activity_task_command_attributes
    with pytest.raises(InvalidArgumentError, match="exceeds the limit of 2000"):
        activity_scheduling.validate(attrs, activity_scheduling.MAX_PENDING_ACTIVITIES)


def test_run_timeout_bounds_the_activity_timeouts() -> None:
    _run, activity = with_activity(request=start_request(run_timeout=6), start_to_close=60)
    assert (activity.schedule_to_close, activity.start_to_close) == (6, 6)
