"""The workflow task: scheduled, started, completed, failed, timed out; transient retries."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import (
    EventType,
    SuggestContinueAsNewReason,
    TimeoutType,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure

from cadenza.history.machine import events as ev
from cadenza.history.machine import signals, workflow_task_events, workflow_tasks
from cadenza.history.machine.state import MutableState
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import T0, TASK_QUEUE, Run, new_run, start_request, started_run

E = EventType
Cause = WorkflowTaskFailedCause


def fail(
    run: Run,
    cause: int = Cause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
    failure: Failure | None = None,
) -> None:
    change = run.change()
    workflow_tasks.fail(change, cause, failure, "worker-1")
    run.commit(change)


def time_out(run: Run, kind: int = TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) -> None:
    change = run.change()
    workflow_tasks.time_out(change, kind)
    run.commit(change)


def signal(run: Run) -> None:
    change = run.change()
    signals.record(change, signals.Signal("go", None, "client"))
    workflow_tasks.ensure_scheduled(change)
    run.commit(change)


@pytest.mark.parametrize(("attempt", "expected"), [(1, 10), (3, 10), (4, 15), (5, 20), (6, 30), (20, 610)])
def test_later_attempts_get_more_time(attempt: int, expected: float) -> None:
    state = new_run().state
    assert workflow_task_events.start_to_close(state, attempt) == expected


def test_starting_writes_the_started_event_and_arms_start_to_close() -> None:
    run = new_run()
    run.clock.advance(2)
    change = run.start_task("w-7")
    started = run.history[-1]
    assert started.event_type == E.EVENT_TYPE_WORKFLOW_TASK_STARTED
    attrs = started.workflow_task_started_event_attributes
    assert (attrs.scheduled_event_id, attrs.identity, attrs.request_id) == (2, "w-7", "poll-req")
    assert attrs.history_size_bytes > 0
    [timer] = change.timers_added
    assert (timer.kind, timer.fire_at, timer.event_id) == (TimerKind.WFT_START_TO_CLOSE, T0 + 12, 2)
    assert run.state.workflow_task is not None and run.state.workflow_task.started_time == T0 + 2


def test_starting_consumes_the_task() -> None:
    run = new_run()
    task_id = run.state.workflow_task.task_id  # type: ignore[union-attr]
    change = run.start_task()
    assert change.tasks_removed == [task_id]
    assert run.state.workflow_task.task_id == ""  # type: ignore[union-attr]


def test_completing_a_task_with_no_commands_writes_completed_and_no_new_task() -> None:
    run = started_run()
    run.complete_task()
    assert run.event_types()[-1] == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    assert run.state.workflow_task is None
    assert run.state.previous_started_event_id == 3


def test_completing_removes_the_start_to_close_timer() -> None:
    run = started_run()
    timer_id = run.state.workflow_task.timer_id  # type: ignore[union-attr]
    change = run.complete_task()
    assert timer_id in change.timers_removed


def test_the_first_failure_is_written_and_retried_on_the_normal_queue() -> None:
    run = started_run()
    run.state.sticky_queue = "sticky"
    failure = Failure(message="bad")
    fail(run, failure=failure)
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_WORKFLOW_TASK_FAILED
    attrs = event.workflow_task_failed_event_attributes
    assert (attrs.scheduled_event_id, attrs.started_event_id) == (2, 3)
    assert attrs.failure.message == "bad" and attrs.identity == "worker-1"
    wft = run.state.workflow_task
    assert wft is not None and wft.attempt == 2 and wft.transient
    assert wft.task_queue == TASK_QUEUE and run.state.sticky_queue == ""


def test_a_transient_attempt_writes_no_events() -> None:
    run = started_run()
    fail(run)
    before = len(run.history)
    run.start_task()
    fail(run)
    assert len(run.history) == before
    assert run.state.workflow_task.attempt == 3  # type: ignore[union-attr]


def test_a_transient_attempt_is_shown_to_the_worker_but_not_stored() -> None:
    run = started_run()
    fail(run)
    run.start_task()
    shown = workflow_tasks.transient_events(run.state)
    assert [e.event_type for e in shown] == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ]
    assert [e.event_id for e in shown] == [5, 6]
    assert shown[0].workflow_task_scheduled_event_attributes.attempt == 2
    assert run.state.next_event_id == 5


def test_a_normal_task_shows_no_transient_events() -> None:
    assert workflow_tasks.transient_events(started_run().state) == []


def test_a_completed_transient_attempt_is_materialized() -> None:
    run = started_run()
    fail(run)
    run.start_task()
    run.complete_task()
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ]
    scheduled = run.history[-3].workflow_task_scheduled_event_attributes
    assert scheduled.attempt == 2
    assert [e.event_id for e in run.history] == list(range(1, len(run.history) + 1))


def test_a_signal_during_a_transient_retry_materializes_it() -> None:
    run = started_run()
    fail(run)
    signal(run)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ]
    assert not run.state.workflow_task.transient  # type: ignore[union-attr]


def test_start_to_close_timeout_writes_timed_out_and_retries_with_the_next_attempt() -> None:
    run = started_run()
    run.clock.advance(10)
    time_out(run)
    attrs = run.history[-1].workflow_task_timed_out_event_attributes
    assert run.history[-1].event_type == E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    assert attrs.timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    assert (attrs.scheduled_event_id, attrs.started_event_id) == (2, 3)
    assert run.state.workflow_task.attempt == 2  # type: ignore[union-attr]


def test_schedule_to_start_timeout_keeps_the_attempt() -> None:
    run = new_run()
    run.state.sticky_queue = "sticky"
    time_out(run, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    attrs = run.history[-2].workflow_task_timed_out_event_attributes
    assert attrs.timeout_type == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
    assert attrs.started_event_id == 0
    wft = run.state.workflow_task
    assert wft is not None and wft.attempt == 1 and not wft.transient
    assert wft.task_queue == TASK_QUEUE


def test_events_buffered_while_failing_reset_the_attempt() -> None:
    run = started_run()
    signal(run)  # buffered: the task is running
    assert run.state.buffered_events
    fail(run)
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    assert run.state.workflow_task.attempt == 1  # type: ignore[union-attr]


def test_a_sticky_task_goes_to_the_sticky_queue_when_its_worker_polls() -> None:
    run = started_run()
    run.complete_task()
    run.state.sticky_queue, run.state.sticky_schedule_to_start = "sticky", 5
    change = run.change()
    change.sticky_alive = lambda _ns, name: name == "sticky"
    workflow_tasks.schedule(change)
    attrs = change.events[-1].workflow_task_scheduled_event_attributes
    assert attrs.task_queue.name == "sticky" and attrs.task_queue.normal_name == TASK_QUEUE
    assert change.tasks_added[-1].task_queue == "sticky"
    [timer] = change.timers_added
    assert timer.kind == TimerKind.WFT_STICKY_SCHEDULE_TO_START
    assert timer.fire_at == change.now + 5


def test_a_sticky_task_whose_worker_stopped_polling_goes_to_the_normal_queue() -> None:
    run = started_run()
    run.complete_task()
    run.state.sticky_queue, run.state.sticky_schedule_to_start = "sticky", 5
    change = run.change()
    workflow_tasks.schedule(change)
    assert change.events[-1].workflow_task_scheduled_event_attributes.task_queue.name == "sticky"
    assert change.tasks_added[-1].task_queue == TASK_QUEUE
    assert change.timers_added == []


def test_ensure_scheduled_does_nothing_while_a_task_is_pending() -> None:
    run = new_run()
    change = run.change()
    workflow_tasks.ensure_scheduled(change)
    assert change.events == [] and change.tasks_added == []


def test_ensure_scheduled_waits_for_the_start_backoff() -> None:
    run = new_run(start_request(start_delay=10))
    change = run.change()
    workflow_tasks.ensure_scheduled(change)
    assert run.state.workflow_task is None and change.events == []


def test_a_speculative_task_writes_no_scheduled_event() -> None:
    run = started_run()
    run.complete_task()
    change = run.change()
    workflow_tasks.ensure_scheduled(change, speculative=True)
    wft = run.state.workflow_task
    assert change.events == [] and wft is not None and wft.speculative and wft.transient
    assert change.tasks_added[0].kind == TaskKind.WORKFLOW


def test_a_failed_speculative_task_is_written_like_any_other() -> None:
    run = started_run()
    run.complete_task()
    change = run.change()
    workflow_tasks.ensure_scheduled(change, speculative=True)
    run.commit(change)
    run.start_task()
    fail(run)
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    ]


def test_started_suggests_continue_as_new_past_the_history_limit() -> None:
    run = new_run()
    change = run.change()
    change.suggest_continue_as_new_at = 3
    workflow_tasks.record_started(change, "w", "r", "")
    attrs = change.events[-1].workflow_task_started_event_attributes
    assert attrs.suggest_continue_as_new
    assert list(attrs.suggest_continue_as_new_reasons) == [
        SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS
    ]


def test_started_does_not_suggest_below_the_limit() -> None:
    run = new_run()
    change = run.change()
    change.suggest_continue_as_new_at = 100
    workflow_tasks.record_started(change, "w", "r", "")
    assert not change.events[-1].workflow_task_started_event_attributes.suggest_continue_as_new


def test_a_build_id_is_recorded_on_the_started_event() -> None:
    run = new_run()
    change = run.change()
    workflow_tasks.record_started(change, "w", "r", "build-9")
    attrs = change.events[-1].workflow_task_started_event_attributes
    assert attrs.worker_version.build_id == "build-9"


def test_a_fourth_attempt_arms_a_longer_start_to_close_timer() -> None:
    run = started_run()
    for _ in range(3):
        fail(run)
        run.start_task()
    wft = run.state.workflow_task
    assert wft is not None and wft.attempt == 4
    [timer] = run.last.timers_added  # type: ignore[union-attr]
    assert timer.fire_at == run.clock.now() + 15
    assert timer.attempt == 4


def test_the_scheduled_event_uses_the_run_timeout_bound_start_to_close() -> None:
    run = new_run(start_request(run_timeout=4))
    attrs = run.history[1].workflow_task_scheduled_event_attributes
    assert ev.seconds(attrs.start_to_close_timeout) == 4


def test_a_state_round_trips_through_bytes() -> None:
    run = started_run()
    fail(run)
    again = MutableState.from_bytes(run.state.to_bytes())
    assert again == run.state
