"""A new run: its state, its WorkflowExecutionStarted event, its clocks and first task."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import RetryPolicy
from temporalio.api.enums.v1 import (
    EventType,
    WorkflowExecutionStatus,
    WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy,
)

from cadenza.config import Limits
from cadenza.exceptions import InvalidArgumentError, WorkflowAlreadyStartedError
from cadenza.history.machine import events as ev
from cadenza.history.machine import runs, starts, workflow_tasks
from cadenza.persistence.records import CurrentExecution
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import T0, TASK_QUEUE, new_run, payloads, start_request

E = EventType
S = WorkflowExecutionStatus


def test_a_fresh_run_has_started_and_a_scheduled_workflow_task() -> None:
    run = new_run()
    assert run.event_types() == [
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    assert run.state.next_event_id == 3
    assert run.state.running


def test_the_started_event_records_the_request() -> None:
    run = new_run(start_request(input=payloads(b'"hi"'), run_timeout=60))
    attrs = run.history[0].workflow_execution_started_event_attributes
    assert attrs.workflow_type.name == "Wf"
    assert attrs.task_queue.name == TASK_QUEUE
    assert attrs.input.payloads[0].data == b'"hi"'
    assert attrs.attempt == 1
    assert attrs.identity == "client"
    assert attrs.original_execution_run_id == attrs.first_execution_run_id == "run-1"
    assert ev.seconds(attrs.workflow_run_timeout) == 60
    assert ev.seconds(attrs.workflow_task_timeout) == 10
    assert run.history[0].event_time.seconds == int(T0)


def test_the_first_workflow_task_goes_to_the_run_task_queue() -> None:
    run = new_run()
    wft = run.state.workflow_task
    assert wft is not None and wft.scheduled_event_id == 2 and wft.attempt == 1
    assert [t.task_queue for t in run.last.tasks_added] == [TASK_QUEUE]  # type: ignore[union-attr]
    attrs = run.history[1].workflow_task_scheduled_event_attributes
    assert ev.seconds(attrs.start_to_close_timeout) == 10 and attrs.attempt == 1


@pytest.mark.parametrize(("given", "expected"), [(0, 10.0), (5, 5.0), (500, 120.0)])
def test_workflow_task_timeout_defaults_and_is_capped(given: float, expected: float) -> None:
    assert new_run(start_request(task_timeout=given)).state.workflow_task_timeout == expected


def test_workflow_task_timeout_is_bounded_by_the_run_timeout() -> None:
    assert new_run(start_request(run_timeout=3)).state.workflow_task_timeout == 3


def test_the_run_timeout_is_bounded_by_the_execution_timeout() -> None:
    state = new_run(start_request(run_timeout=100, execution_timeout=40)).state
    assert state.run_timeout == 40
    assert state.execution_deadline == T0 + 40


def test_an_execution_timeout_alone_becomes_the_run_timeout() -> None:
    run = new_run(start_request(execution_timeout=30))
    assert run.state.run_timeout == 30
    expiry = run.history[0].workflow_execution_started_event_attributes
    assert expiry.workflow_execution_expiration_time.seconds == int(T0 + 30)


def test_a_run_timeout_arms_the_run_timer() -> None:
    run = new_run(start_request(run_timeout=60))
    timers = {t.kind: t.fire_at for t in run.last.timers_added}  # type: ignore[union-attr]
    assert timers[TimerKind.WORKFLOW_RUN_TIMEOUT] == T0 + 60
    assert run.state.run_timer_id


def test_a_start_delay_postpones_the_first_task() -> None:
    run = new_run(start_request(start_delay=30, run_timeout=60))
    assert run.event_types() == [E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    assert run.state.workflow_task is None
    timers = {t.kind: t.fire_at for t in run.last.timers_added}  # type: ignore[union-attr]
    assert timers == {TimerKind.WORKFLOW_BACKOFF: T0 + 30, TimerKind.WORKFLOW_RUN_TIMEOUT: T0 + 90}
    attrs = run.history[0].workflow_execution_started_event_attributes
    assert ev.seconds(attrs.first_workflow_task_backoff) == 30


def test_the_elapsed_backoff_schedules_the_first_task() -> None:
    run = new_run(start_request(start_delay=30))
    run.clock.advance(30)
    change = run.change()
    runs.backoff_elapsed(change)
    run.commit(change)
    assert run.state.backoff_timer_id == ""
    assert run.event_types()[-1] == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    assert run.history[-1].event_time.seconds == int(T0 + 30)


def test_a_retry_policy_is_recorded_with_its_defaults() -> None:
    run = new_run(start_request(retry=RetryPolicy(maximum_attempts=3)))
    attrs = run.history[0].workflow_execution_started_event_attributes.retry_policy
    assert (
        ev.seconds(attrs.initial_interval),
        attrs.backoff_coefficient,
        ev.seconds(attrs.maximum_interval),
        attrs.maximum_attempts,
    ) == (1, 2.0, 100, 3)


def test_a_start_without_a_retry_policy_has_none() -> None:
    run = new_run()
    assert run.state.retry_policy is None
    assert not run.history[0].workflow_execution_started_event_attributes.HasField("retry_policy")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: setattr(r, "workflow_id", ""), "WorkflowId is not set on request."),
        (lambda r: r.workflow_type.ClearField("name"), "WorkflowType is not set on request."),
        (lambda r: r.task_queue.ClearField("name"), "missing task queue name"),
        (lambda r: setattr(r.task_queue, "name", "/_sys/x"), "reserved prefix"),
        (lambda r: setattr(r, "cron_schedule", "not a cron"), "invalid CronSchedule."),
        (lambda r: setattr(r, "cron_schedule", "0 0 31 2 *"), "no time can be found"),
    ],
)
def test_a_malformed_start_is_refused(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    request = start_request()
    mutate(request)
    with pytest.raises(InvalidArgumentError, match=message):
        starts.validate(request, Limits())


def test_cron_and_start_delay_together_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="may not be used together"):
        starts.validate(start_request(cron="* * * * *", start_delay=5), Limits())


def current(status: int = S.WORKFLOW_EXECUTION_STATUS_RUNNING) -> CurrentExecution:
    return CurrentExecution("old-run", status, "old-req")


def test_no_current_run_starts_a_new_one() -> None:
    assert starts.check_existing(start_request(), None) == starts.Existing()


def test_the_same_request_id_answers_with_the_existing_run() -> None:
    request = start_request()
    request.request_id = "old-req"
    assert starts.check_existing(request, current()).use_run_id == "old-run"


def test_a_running_workflow_id_is_refused_by_default() -> None:
    with pytest.raises(WorkflowAlreadyStartedError, match="already running"):
        starts.check_existing(start_request(), current())


def test_use_existing_answers_with_the_running_run() -> None:
    request = start_request()
    request.workflow_id_conflict_policy = WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
    assert starts.check_existing(request, current()).use_run_id == "old-run"


def test_terminate_existing_terminates_the_running_run() -> None:
    request = start_request()
    request.workflow_id_conflict_policy = (
        WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
    )
    assert starts.check_existing(request, current()).terminate_run_id == "old-run"


def test_reject_duplicate_refuses_after_a_closed_run() -> None:
    request = start_request()
    request.workflow_id_reuse_policy = WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
    with pytest.raises(WorkflowAlreadyStartedError, match="reject duplicate"):
        starts.check_existing(request, current(S.WORKFLOW_EXECUTION_STATUS_FAILED))


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (S.WORKFLOW_EXECUTION_STATUS_COMPLETED, False),
        (S.WORKFLOW_EXECUTION_STATUS_FAILED, True),
        (S.WORKFLOW_EXECUTION_STATUS_TERMINATED, True),
    ],
)
def test_allow_duplicate_failed_only(status: int, allowed: bool) -> None:
    request = start_request()
    request.workflow_id_reuse_policy = (
        WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
    )
    if allowed:
        assert starts.check_existing(request, current(status)) == starts.Existing()
    else:
        with pytest.raises(WorkflowAlreadyStartedError):
            starts.check_existing(request, current(status))


def test_eager_start_records_the_first_task_started_in_the_same_change() -> None:
    run = new_run()
    change = run.change()
    workflow_tasks.record_started(change, "client", "req", "")
    assert [e.event_type for e in change.events] == [E.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    assert change.tasks_removed == [run.last.tasks_added[0].task_id]  # type: ignore[union-attr]


def test_a_cron_start_waits_until_the_next_cron_time() -> None:
    request = start_request(cron="0 * * * *")
    # T0 is 22:13:20 UTC; the next top of the hour is 2,800 seconds later.
    assert starts.first_task_backoff(request, T0) == 2800
