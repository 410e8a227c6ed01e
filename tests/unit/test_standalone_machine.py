"""A standalone activity run's transitions, without I/O: dispatch, retries, timeouts,
cancellation and what is stored of it."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import ActivityExecutionStatus, RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure

from cadenza.standalone import machine
from cadenza.standalone.machine import Record, Run, Step
from cadenza.timers.kinds import TimerKind

NOW = 1_000.0


def new_run(**timeouts: int) -> Run:
    run = Run(run_id="r")
    run.info.activity_id, run.info.run_id, run.info.task_queue = "a", "r", "q"
    run.info.start_to_close_timeout.CopyFrom(Duration(seconds=10))
    for name, seconds in timeouts.items():
        getattr(run.info, name).CopyFrom(Duration(seconds=seconds))
    run.info.retry_policy.initial_interval.CopyFrom(Duration(seconds=1))
    run.info.retry_policy.backoff_coefficient = 2.0
    run.info.retry_policy.maximum_attempts = 3
    return run


def started(run: Run, at: float = NOW) -> Step:
    machine.begin(Step("ns", at), run, 0.0)
    step = Step("ns", at)
    machine.started(step, run, "worker")
    return step


def app_failure(message: str) -> Failure:
    failure = Failure(message=message)
    failure.application_failure_info.SetInParent()
    return failure


def test_a_new_run_is_put_on_its_queue_with_its_deadlines() -> None:
    run = new_run(schedule_to_close_timeout=60, schedule_to_start_timeout=5)
    step = Step("ns", NOW)
    machine.begin(step, run, 0.0)
    assert [(t.workflow_id, t.run_id, t.scheduled_event_id, t.attempt) for t in step.tasks] == [
        ("a", "r", 0, 1)
    ]
    assert sorted((t.kind, t.fire_at) for t in step.timers) == [
        (TimerKind.STANDALONE_SCHEDULE_TO_CLOSE, NOW + 60),
        (TimerKind.STANDALONE_SCHEDULE_TO_START, NOW + 5),
    ]
    assert machine.is_running(run) and run.info.run_state == machine.SCHEDULED


def test_a_start_delay_holds_the_first_attempt_back() -> None:
    step = Step("ns", NOW)
    run = new_run()
    machine.begin(step, run, 2.0)
    assert step.tasks == []
    assert [(t.kind, t.fire_at, t.attempt) for t in step.timers] == [
        (TimerKind.STANDALONE_DISPATCH, NOW + 2, 1)
    ]
    due = Step("ns", NOW + 2)
    machine.dispatch_due(due, run, 1)
    assert [t.attempt for t in due.tasks] == [1]


def test_a_failed_attempt_is_retried_after_its_backoff_until_attempts_run_out() -> None:
    run = new_run()
    started(run)
    step = Step("ns", NOW + 1)
    machine.fail_attempt(step, run, app_failure("first"), "worker")
    assert run.info.attempt == 2 and run.info.last_failure.message == "first"
    assert [(t.kind, t.fire_at, t.attempt) for t in step.timers] == [
        (TimerKind.STANDALONE_DISPATCH, NOW + 2, 2)
    ]
    run.info.attempt = 3
    run.info.run_state = machine.STARTED
    machine.fail_attempt(Step("ns", NOW + 5), run, app_failure("last"), "worker")
    assert run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED
    assert run.outcome.failure.message == "last"
    assert run.outcome.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


def test_a_non_retryable_failure_ends_the_run_at_once() -> None:
    run = new_run()
    started(run)
    failure = app_failure("no")
    failure.application_failure_info.non_retryable = True
    machine.fail_attempt(Step("ns", NOW + 1), run, failure, "worker")
    assert run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED
    assert run.outcome.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE


def test_a_timed_out_attempt_is_retried_and_the_last_one_names_the_one_before() -> None:
    run = new_run()
    run.info.retry_policy.maximum_attempts = 2
    started(run)
    machine.time_out(Step("ns", NOW + 10), run, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
    assert run.info.attempt == 2 and machine.is_running(run)
    run.info.run_state = machine.STARTED
    machine.time_out(Step("ns", NOW + 30), run, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
    assert run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TIMED_OUT
    assert run.outcome.failure.message == "activity StartToClose timeout"
    assert run.outcome.failure.cause.message == "activity StartToClose timeout"


def test_a_heartbeat_moves_the_heartbeat_deadline() -> None:
    run = new_run(heartbeat_timeout=3)
    started(run)
    assert machine.heartbeat_deadline(run) == NOW + 3
    machine.heartbeat(Step("ns", NOW + 2), run, None)
    assert machine.heartbeat_deadline(run) == NOW + 5
    assert run.info.total_heartbeat_count == 1


def test_cancelling_a_waiting_attempt_cancels_the_run_naming_the_requester() -> None:
    record = Record(new_run())
    machine.begin(Step("ns", NOW), record.run, 0.0)
    machine.request_cancel(Step("ns", NOW + 1), record, "no longer", "operator", "req-1")
    assert record.run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED
    info = record.run.outcome.failure.canceled_failure_info
    assert info.identity == "operator" and info.details.payloads[0].data == b'"no longer"'


def test_cancelling_a_running_attempt_waits_for_its_worker() -> None:
    record = Record(new_run())
    started(record.run)
    machine.request_cancel(Step("ns", NOW + 1), record, "stop", "operator", "req-1")
    assert record.run.info.run_state == machine.CANCEL_REQUESTED and machine.is_started(record.run)
    machine.canceled(Step("ns", NOW + 2), record, None, "worker")
    assert record.run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED
    assert record.run.outcome.failure.canceled_failure_info.identity == "operator"


def test_a_record_reads_back_as_written() -> None:
    record = Record(new_run(), "req-1", "operator")
    assert Record.decode(record.encode()) == record


def test_an_attempt_still_waiting_past_its_schedule_to_start_is_seen_as_such() -> None:
    run = new_run(schedule_to_start_timeout=5)
    machine.begin(Step("ns", NOW), run, 0.0)
    assert not machine.schedule_to_start_passed(run, NOW + 4)
    assert machine.schedule_to_start_passed(run, NOW + 5)


def test_a_closed_run_drops_the_timers_it_had_left() -> None:
    record = Record(new_run(schedule_to_close_timeout=60))
    begun = Step("ns", NOW)
    machine.begin(begun, record.run, 0.0)
    assert record.track_timers(begun, "") == []
    first = Step("ns", NOW + 1)
    machine.started(first, record.run, "worker")
    assert record.track_timers(first, "") == []
    assert len(record.timer_ids) == 2  # schedule-to-close, start-to-close
    done = Step("ns", NOW + 2)
    machine.complete(done, record.run, None, "worker")
    assert sorted(record.track_timers(done, "")) == sorted(t.timer_id for t in begun.timers + first.timers)
    assert record.timer_ids == []
