"""A Change writes a transient workflow task's events before any other event, exactly once.

A transient task (a retry, or a speculative task for updates) reserves the IDs
of its Scheduled and Started events without writing them; the first other event
of any kind writes them, so they take the IDs the worker was shown.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, SuggestContinueAsNewReason, WorkflowTaskFailedCause

from cadenza.history.machine import workflow_ops, workflow_task_events, workflow_tasks
from cadenza.history.machine.change import Change
from tests.unit.history.builders import TASK_QUEUE, Run, started_run

E = EventType


def speculative_run() -> Run:
    """A run whose first task completed, then a speculative task was scheduled for it."""
    run = started_run()
    run.complete_task()
    change = run.change()
    workflow_tasks.ensure_scheduled(change, speculative=True)
    run.commit(change)
    return run


def running_speculative_run() -> Run:
    run = speculative_run()
    change = run.change()
    workflow_tasks.record_started(change, "w-2", "poll-2", "build-3")
    run.commit(change)
    return run


def types(change: Change) -> list[int]:
    return [e.event_type for e in change.events]


def test_events_added_while_a_speculative_task_is_pending_write_it_once() -> None:
    run = speculative_run()
    reserved = run.state.workflow_task.scheduled_event_id  # type: ignore[union-attr]
    change = run.change()
    change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    assert types(change) == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_MARKER_RECORDED,
        E.EVENT_TYPE_MARKER_RECORDED,
    ]
    assert change.events[0].event_id == reserved
    wft = run.state.workflow_task
    assert wft is not None and not wft.transient and not wft.speculative


def test_a_running_speculative_task_is_written_with_its_start() -> None:
    run = running_speculative_run()
    wft = run.state.workflow_task
    assert wft is not None
    change = run.change()
    change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    assert types(change) == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_MARKER_RECORDED,
    ]
    scheduled, started, _ = change.events
    assert (scheduled.event_id, started.event_id) == (wft.scheduled_event_id, wft.started_event_id)
    attrs = started.workflow_task_started_event_attributes
    assert attrs.scheduled_event_id == wft.scheduled_event_id
    assert (attrs.identity, attrs.request_id, attrs.worker_version.build_id) == ("w-2", "poll-2", "build-3")


def test_the_written_events_are_the_ones_the_worker_was_shown() -> None:
    run = running_speculative_run()
    shown = workflow_tasks.transient_events(run.state)
    change = run.change()
    change.materialize_transient()
    assert [e.event_id for e in change.events] == [e.event_id for e in shown]
    assert (
        change.events[0].workflow_task_scheduled_event_attributes
        == shown[0].workflow_task_scheduled_event_attributes
    )
    assert (
        change.events[1].workflow_task_started_event_attributes
        == shown[1].workflow_task_started_event_attributes
    )


def test_materializing_twice_writes_the_events_once() -> None:
    run = speculative_run()
    change = run.change()
    change.materialize_transient()
    change.materialize_transient()
    assert types(change) == [E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]


def test_an_ordinary_task_is_left_alone() -> None:
    run = started_run()
    change = run.change()
    change.materialize_transient()
    change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    assert types(change) == [E.EVENT_TYPE_MARKER_RECORDED]


def test_an_event_buffered_behind_a_running_transient_task_keeps_it_transient() -> None:
    run = running_speculative_run()
    change = run.change()
    change.add_or_buffer(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    assert change.events == [] and change.has_buffered
    assert run.state.workflow_task.transient  # type: ignore[union-attr]


def test_an_event_not_buffered_writes_a_pending_transient_task_first() -> None:
    run = speculative_run()
    change = run.change()
    change.add_or_buffer(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    assert types(change) == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ]


def test_a_written_start_suggests_continue_as_new_past_the_limit() -> None:
    run = running_speculative_run()
    change = run.change()
    change.suggest_continue_as_new_at = 1
    change.materialize_transient()
    attrs = change.events[1].workflow_task_started_event_attributes
    assert list(attrs.suggest_continue_as_new_reasons) == [
        SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS
    ]


def retried_run() -> Run:
    """A run whose first task failed, so its next attempt is transient."""
    run = started_run()
    change = run.change()
    workflow_tasks.fail(
        change,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
        None,
        "w",
    )
    run.commit(change)
    return run


def test_a_retried_task_is_written_with_its_attempt() -> None:
    run = retried_run()
    change = run.change()
    change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    assert change.events[0].workflow_task_scheduled_event_attributes.attempt == 2


def test_a_sticky_scheduled_event_names_both_queues() -> None:
    run = started_run()
    event = run.history[1]
    workflow_task_events.fill_scheduled(event, run.state, 1, "sticky")
    queue = event.workflow_task_scheduled_event_attributes.task_queue
    assert (queue.name, queue.normal_name) == ("sticky", TASK_QUEUE)


def test_no_limit_never_suggests_continue_as_new() -> None:
    run = started_run()
    started = run.history[2]
    workflow_task_events.suggest_continue_as_new(started, 0)
    assert not started.workflow_task_started_event_attributes.suggest_continue_as_new


def failed_twice_run() -> Run:
    """A run whose first task failed and whose retry (a transient attempt) is running."""
    run = retried_run()
    change = run.change()
    workflow_tasks.record_started(change, "w-2", "poll-2", "build-3")
    run.commit(change)
    return run


def test_terminating_during_a_retried_task_writes_no_event_for_it() -> None:
    run = failed_twice_run()
    before = len(run.history)
    change = run.change()
    workflow_ops.terminate(change, "stop", None, "me")
    assert types(change) == [E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]
    assert change.events[0].event_id == before + 1
    assert run.state.workflow_task is None


def test_terminating_during_a_speculative_task_writes_it_then_fails_it() -> None:
    run = running_speculative_run()
    change = run.change()
    workflow_ops.terminate(change, "stop", None, "me")
    assert types(change) == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    ]
    scheduled, started, failed, _ = change.events
    attrs = failed.workflow_task_failed_event_attributes
    assert (attrs.scheduled_event_id, attrs.started_event_id) == (scheduled.event_id, started.event_id)
