"""How a run ends: complete, fail, time out, cancel, terminate; workflow retries, cron, continue-as-new."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import RetryPolicy
from temporalio.api.enums.v1 import (
    CommandType,
    ContinueAsNewInitiator,
    EventType,
    RetryState,
    WorkflowExecutionStatus,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure

from cadenza.history.machine import events as ev
from cadenza.history.machine import runs, signals, workflow_ops
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Parent
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import (
    T0,
    TASK_QUEUE,
    Run,
    command,
    duration,
    new_run,
    payloads,
    schedule_activity,
    start_request,
    start_timer,
    started_run,
)

C = CommandType
E = EventType
S = WorkflowExecutionStatus
Initiator = ContinueAsNewInitiator


def backoff_elapsed(run: Run) -> None:
    change = run.change()
    runs.backoff_elapsed(change)
    run.commit(change)


def fail_workflow(run: Run, failure: Failure | None = None) -> Change:
    return run.complete_task(
        command(C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION, failure=failure or Failure(message="wf failed"))
    )


def successor_started(change: Change):  # type: ignore[no-untyped-def]
    assert change.successor is not None
    return change.successor.events[0].workflow_execution_started_event_attributes


def test_complete_closes_the_run_with_its_result() -> None:
    run = started_run()
    run.clock.advance(3)
    change = run.complete_task(
        command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, result=payloads(b'"done"'))
    )
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    attrs = event.workflow_execution_completed_event_attributes
    assert attrs.result.payloads[0].data == b'"done"'
    assert attrs.workflow_task_completed_event_id == event.event_id - 1
    assert attrs.new_execution_run_id == ""
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_COMPLETED
    assert (run.state.close_time, run.state.close_event_id) == (T0 + 3, event.event_id)
    assert change.status_changed and change.successor is None


def test_closing_drops_pending_activities_timers_and_the_run_timer() -> None:
    run = started_run(start_request(run_timeout=100))
    run.complete_task(schedule_activity("a"), start_timer("t"))
    run_timer = run.state.run_timer_id
    timer_record = run.state.timers["t"].record_id
    [activity] = run.state.activities.values()
    change = run.change()
    workflow_ops.terminate(change, "stop", None, "admin")
    run.commit(change)
    assert run.state.activities == {} and run.state.timers == {}
    assert {run_timer, timer_record} <= set(change.timers_removed)
    assert change.tasks_removed == [activity.task_id]


def test_fail_without_a_retry_policy_says_so() -> None:
    run = started_run()
    change = fail_workflow(run)
    attrs = run.history[-1].workflow_execution_failed_event_attributes
    assert attrs.failure.message == "wf failed"
    assert attrs.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    assert change.successor is None
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_FAILED


def test_fail_with_a_retry_policy_starts_the_next_attempt_after_the_backoff() -> None:
    run = started_run(start_request(retry=RetryPolicy(initial_interval=duration(4))))
    change = fail_workflow(run)
    attrs = run.history[-1].workflow_execution_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_IN_PROGRESS
    follow = change.successor
    assert follow is not None and attrs.new_execution_run_id == follow.state.run_id
    started = successor_started(change)
    assert started.attempt == 2
    assert started.initiator == Initiator.CONTINUE_AS_NEW_INITIATOR_RETRY
    assert started.continued_execution_run_id == "run-1"
    assert started.continued_failure.message == "wf failed"
    assert ev.seconds(started.first_workflow_task_backoff) == 4
    assert follow.state.backoff_timer_id and follow.state.workflow_task is None
    assert follow.state.first_execution_run_id == "run-1"
    assert follow.replaced_run_id == "run-1"


def test_the_workflow_retry_backoff_grows_with_the_attempt() -> None:
    run = started_run(start_request(retry=RetryPolicy(initial_interval=duration(4))))
    run.state.attempt = 3
    change = fail_workflow(run)
    assert ev.seconds(successor_started(change).first_workflow_task_backoff) == 16


def test_the_last_workflow_attempt_is_not_retried() -> None:
    run = started_run(start_request(retry=RetryPolicy(maximum_attempts=2)))
    run.state.attempt = 2
    change = fail_workflow(run)
    attrs = run.history[-1].workflow_execution_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    assert change.successor is None


def test_a_non_retryable_workflow_failure_is_not_retried() -> None:
    run = started_run(start_request(retry=RetryPolicy(non_retryable_error_types=["Bad"])))
    failure = Failure(message="x")
    failure.application_failure_info.type = "Bad"
    change = fail_workflow(run, failure)
    attrs = run.history[-1].workflow_execution_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
    assert change.successor is None


def test_a_workflow_retry_past_the_execution_deadline_is_not_made() -> None:
    run = started_run(start_request(execution_timeout=10, retry=RetryPolicy(initial_interval=duration(30))))
    change = fail_workflow(run)
    attrs = run.history[-1].workflow_execution_failed_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_TIMEOUT
    assert change.successor is None


def test_a_retried_run_keeps_what_remains_of_the_execution_timeout() -> None:
    run = started_run(start_request(execution_timeout=100, retry=RetryPolicy(initial_interval=duration(1))))
    run.clock.advance(30)
    change = fail_workflow(run)
    assert change.successor is not None
    assert change.successor.state.run_timeout == 70
    assert change.successor.state.execution_deadline == T0 + 100


def test_run_timeout_closes_the_run_as_timed_out() -> None:
    run = started_run(start_request(run_timeout=60))
    run.clock.advance(60)
    change = run.change()
    runs.time_out(change)
    run.commit(change)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    ]
    failed = run.history[-2].workflow_task_failed_event_attributes
    assert failed.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND
    attrs = run.history[-1].workflow_execution_timed_out_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_TIMED_OUT
    assert run.state.run_timer_id == ""


def test_execution_timeout_reports_the_timeout_retry_state() -> None:
    run = new_run(start_request(execution_timeout=30, retry=RetryPolicy(initial_interval=duration(1))))
    run.clock.advance(30)
    change = run.change()
    runs.time_out(change)
    run.commit(change)
    attrs = run.history[-1].workflow_execution_timed_out_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_TIMEOUT
    assert change.successor is None


def test_a_timed_out_run_with_a_retry_policy_is_retried() -> None:
    run = new_run(start_request(run_timeout=10, retry=RetryPolicy(initial_interval=duration(2))))
    run.clock.advance(10)
    change = run.change()
    runs.time_out(change)
    run.commit(change)
    attrs = run.history[-1].workflow_execution_timed_out_event_attributes
    assert attrs.retry_state == RetryState.RETRY_STATE_IN_PROGRESS
    assert successor_started(change).continued_failure.HasField("timeout_failure_info")


def test_cron_completion_schedules_the_next_run_at_the_next_cron_time() -> None:
    run = new_run(start_request(cron="0 * * * *"))
    run.clock.advance(2800)  # the first run's time: 23:00:00 UTC
    backoff_elapsed(run)
    run.start_task()
    run.clock.advance(10)
    change = run.complete_task(command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, result=payloads(b"1")))
    started = successor_started(change)
    assert started.initiator == Initiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
    assert ev.seconds(started.first_workflow_task_backoff) == 3590
    assert started.last_completion_result.payloads[0].data == b"1"
    assert started.attempt == 1
    attrs = run.history[-1].workflow_execution_completed_event_attributes
    assert attrs.new_execution_run_id == change.successor.state.run_id  # type: ignore[union-attr]


def test_a_failed_cron_run_is_followed_by_the_next_cron_run() -> None:
    run = new_run(start_request(cron="*/5 * * * *"))
    run.clock.advance(100)  # 22:15:00
    backoff_elapsed(run)
    run.start_task()
    change = fail_workflow(run)
    started = successor_started(change)
    assert started.initiator == Initiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
    assert started.continued_failure.message == "wf failed"
    assert ev.seconds(started.first_workflow_task_backoff) == 300


@pytest.mark.parametrize(
    ("cron", "offset", "expected"),
    [
        ("* * * * *", 0, 40),  # T0 is 22:13:20
        ("*/15 * * * *", 0, 100),
        ("0 0 * * *", 0, 6400),
        ("@hourly", 0, 2800),
        ("* * * * *", 0.5, 40),  # whole seconds, rounded up
    ],
)
def test_next_cron_delay(cron: str, offset: float, expected: float) -> None:
    assert runs.next_cron_delay(cron, T0 + offset) == expected


@pytest.mark.parametrize("cron", ["", "@daily", "0 12 * * MON-FRI", "*/10 * * * *"])
def test_valid_crons_are_accepted(cron: str) -> None:
    runs.validate_cron(cron)


def test_continue_as_new_closes_the_run_and_starts_the_next() -> None:
    run = started_run(start_request(run_timeout=50))
    run.clock.advance(5)
    change = run.complete_task(
        command(
            C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
            input=payloads(b"2"),
            backoff_start_interval=duration(7),
        )
    )
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    attrs = event.workflow_execution_continued_as_new_event_attributes
    assert attrs.workflow_type.name == "Wf" and attrs.task_queue.name == TASK_QUEUE
    assert attrs.input.payloads[0].data == b"2"
    assert ev.seconds(attrs.workflow_run_timeout) == 50
    assert ev.seconds(attrs.backoff_start_interval) == 7
    assert attrs.initiator == Initiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
    follow = change.successor
    assert follow is not None and attrs.new_execution_run_id == follow.state.run_id
    started = successor_started(change)
    assert started.input.payloads[0].data == b"2"
    assert started.continued_execution_run_id == "run-1"
    assert started.original_execution_run_id == follow.state.run_id
    assert ev.seconds(started.first_workflow_task_backoff) == 7
    assert follow.state.execution_time == T0 + 5 + 7
    timers = {t.kind: t.fire_at for t in follow.timers_added}
    assert timers == {TimerKind.WORKFLOW_BACKOFF: T0 + 12, TimerKind.WORKFLOW_RUN_TIMEOUT: T0 + 62}


def test_continue_as_new_may_change_type_and_queue() -> None:
    run = started_run()
    cmd = command(C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
    cmd.continue_as_new_workflow_execution_command_attributes.workflow_type.name = "Other"
    cmd.continue_as_new_workflow_execution_command_attributes.task_queue.name = "q2"
    change = run.complete_task(cmd)
    follow = change.successor
    assert follow is not None
    assert (follow.state.workflow_type, follow.state.task_queue) == ("Other", "q2")
    assert follow.events[1].workflow_task_scheduled_event_attributes.task_queue.name == "q2"
    assert successor_started(change).workflow_type.name == "Other"


def test_continue_as_new_without_input_does_not_repeat_the_old_input() -> None:
    run = started_run(start_request(input=payloads(b"old")))
    change = run.complete_task(command(C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION))
    assert not successor_started(change).HasField("input")


def test_continue_as_new_keeps_the_retry_policy_unless_given() -> None:
    run = started_run(start_request(retry=RetryPolicy(maximum_attempts=5)))
    change = run.complete_task(command(C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION))
    assert change.successor is not None
    assert change.successor.state.retry_policy.maximum_attempts == 5  # type: ignore[union-attr]
    assert successor_started(change).retry_policy.maximum_attempts == 5


def test_request_cancel_writes_the_request_once() -> None:
    run = new_run()
    for _ in range(2):
        change = run.change()
        workflow_ops.request_cancel(change, "please", "client")
        run.commit(change)
    cancels = [e for e in run.history if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED]
    assert len(cancels) == 1
    attrs = cancels[0].workflow_execution_cancel_requested_event_attributes
    assert (attrs.cause, attrs.identity) == ("please", "client")
    assert run.state.cancel_requested and run.state.running


def test_a_cancel_request_after_a_completed_task_schedules_one() -> None:
    run = started_run()
    run.complete_task()
    change = run.change()
    workflow_ops.request_cancel(change, "", "client")
    run.commit(change)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]


def test_the_cancel_command_closes_the_run_as_canceled() -> None:
    run = started_run()
    run.complete_task(command(C.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, details=payloads(b"d")))
    attrs = run.history[-1].workflow_execution_canceled_event_attributes
    assert run.history[-1].event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
    assert attrs.details.payloads[0].data == b"d"
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_CANCELED


def test_terminate_fails_a_running_task_then_closes() -> None:
    run = started_run()
    change = run.change()
    workflow_ops.terminate(change, "enough", payloads(b"why"), "admin")
    run.commit(change)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    ]
    attrs = run.history[-1].workflow_execution_terminated_event_attributes
    assert (attrs.reason, attrs.identity) == ("enough", "admin")
    assert attrs.details.payloads[0].data == b"why"
    assert run.state.status == S.WORKFLOW_EXECUTION_STATUS_TERMINATED
    assert run.state.workflow_task is None


def test_terminate_with_a_scheduled_task_writes_no_task_failure() -> None:
    run = new_run()
    change = run.change()
    workflow_ops.terminate(change, "enough", None, "admin")
    run.commit(change)
    assert run.event_types()[-1] == E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
    assert E.EVENT_TYPE_WORKFLOW_TASK_FAILED not in run.event_types()


def test_terminate_flushes_buffered_events_before_the_close() -> None:
    run = started_run()
    change = run.change()
    signals.record(change, signals.Signal("late", None, "c"))
    run.commit(change)
    change = run.change()
    workflow_ops.terminate(change, "x", None, "admin")
    run.commit(change)
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    ]


def test_a_closing_child_notifies_its_parent() -> None:
    run = started_run()
    run.state.parent = Parent("default", "ns-id", "parent-wf", "parent-run", 5)
    change = run.complete_task(command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION))
    [notify] = [t for t in change.timers_added if t.kind == TimerKind.NOTIFY_PARENT]
    assert notify.event_id == run.state.close_event_id
