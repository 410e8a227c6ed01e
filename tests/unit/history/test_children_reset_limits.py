"""Child workflows and external requests, reset points, history limits, and the change itself."""

from __future__ import annotations

import dataclasses

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    CommandType,
    EventType,
    ParentClosePolicy,
    StartChildWorkflowExecutionFailedCause,
    WorkflowExecutionStatus,
    WorkflowTaskFailedCause,
)
from temporalio.api.history.v1 import HistoryEvent

from cadenza.config import Limits
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import children, reset, size_limits, user_timers, workflow_tasks
from cadenza.history.machine import events as ev
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import (
    NAMESPACE,
    T0,
    TASK_QUEUE,
    Run,
    command,
    duration,
    payloads,
    schedule_activity,
    start_request,
    start_timer,
    started_run,
)

C = CommandType
E = EventType


def start_child(workflow_id: str = "child-1", **attrs: object) -> object:
    cmd = command(C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, workflow_id=workflow_id, **attrs)
    cmd.start_child_workflow_execution_command_attributes.workflow_type.name = "Child"
    return cmd


def with_child(**attrs: object) -> Run:
    run = started_run()
    run.complete_task(start_child(**attrs))  # type: ignore[arg-type]
    return run


def test_start_child_writes_initiated_with_temporal_defaults() -> None:
    run = with_child()
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    attrs = event.start_child_workflow_execution_initiated_event_attributes
    assert (attrs.workflow_id, attrs.workflow_type.name) == ("child-1", "Child")
    assert attrs.namespace == NAMESPACE.name and attrs.namespace_id == NAMESPACE.id
    assert attrs.task_queue.name == TASK_QUEUE
    assert attrs.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
    assert ev.seconds(attrs.workflow_task_timeout) == 10
    assert ev.seconds(attrs.workflow_run_timeout) == 0
    assert attrs.workflow_task_completed_event_id == event.event_id - 1


def test_start_child_arms_the_transfer_that_starts_it() -> None:
    run = with_child()
    [timer] = [
        t
        for t in run.last.timers_added  # type: ignore[union-attr]
        if t.kind == TimerKind.START_CHILD
    ]
    assert (timer.fire_at, timer.event_id) == (T0, run.history[-1].event_id)
    child = run.state.children[run.history[-1].event_id]
    assert (child.workflow_id, child.workflow_type, child.run_id) == ("child-1", "Child", "")


def test_child_timeouts_are_bounded_as_temporal_bounds_them() -> None:
    run = with_child(
        workflow_execution_timeout=duration(30),
        workflow_run_timeout=duration(60),
        workflow_task_timeout=duration(300),
    )
    attrs = run.history[-1].start_child_workflow_execution_initiated_event_attributes
    assert ev.seconds(attrs.workflow_run_timeout) == 30
    assert ev.seconds(attrs.workflow_task_timeout) == 30


def test_a_child_in_another_namespace_has_no_namespace_id() -> None:
    run = with_child(namespace="other")
    attrs = run.history[-1].start_child_workflow_execution_initiated_event_attributes
    assert (attrs.namespace, attrs.namespace_id) == ("other", "")


def test_child_started_is_recorded_and_wakes_the_parent() -> None:
    run = with_child()
    child = next(iter(run.state.children.values()))
    change = run.change()
    children.child_started(change, child, "child-run", "ns-id")
    run.commit(change)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    attrs = run.history[-2].child_workflow_execution_started_event_attributes
    assert attrs.initiated_event_id == child.initiated_event_id
    assert attrs.workflow_execution == WorkflowExecution(workflow_id="child-1", run_id="child-run")
    assert child.started_event_id == run.history[-2].event_id


def test_a_child_that_could_not_start_is_forgotten() -> None:
    run = with_child()
    child = next(iter(run.state.children.values()))
    cause = StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
    change = run.change()
    children.child_start_failed(change, child, cause, 4)
    run.commit(change)
    attrs = run.history[-2].start_child_workflow_execution_failed_event_attributes
    assert attrs.cause == cause and attrs.workflow_id == "child-1"
    assert run.state.children == {}


@pytest.mark.parametrize(
    ("close", "expected", "field"),
    [
        (
            E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
            E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
            "result",
        ),
        (E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, "failure"),
        (E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, "details"),
        (
            E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
            E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
            "retry_state",
        ),
        (E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, ""),
    ],
)
def test_a_child_close_becomes_the_matching_parent_event(close: int, expected: int, field: str) -> None:
    run = with_child()
    child = next(iter(run.state.children.values()))
    change = run.change()
    children.child_started(change, child, "child-run", "ns-id")
    run.commit(change)
    close_event = ev.new_event(close, T0)
    src = ev.attributes(close_event)
    if field == "result":
        src.result.CopyFrom(payloads(b"r"))
    elif field == "failure":
        src.failure.message = "f"
    elif field == "details":
        src.details.CopyFrom(payloads(b"d"))
    elif field == "retry_state":
        src.retry_state = 5
    change = run.change()
    children.child_closed(change, child, close_event, "ns-id", child.started_event_id)
    run.commit(change)
    event = next(e for e in reversed(run.history) if e.event_type == expected)
    out = ev.attributes(event)
    if field:
        assert getattr(out, field) == getattr(src, field)
    assert (out.initiated_event_id, out.started_event_id) == (
        child.initiated_event_id,
        child.started_event_id,
    )
    assert run.state.children == {}


@pytest.mark.parametrize(
    ("policy", "asked"),
    [
        (ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE, True),
        (ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL, True),
        (ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON, False),
    ],
)
def test_closing_the_parent_applies_each_child_policy(policy: int, asked: bool) -> None:
    run = with_child(parent_close_policy=policy)
    run.next_task()
    change = run.complete_task(command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION))
    kinds = [t.kind for t in change.timers_added]
    assert (TimerKind.PARENT_CLOSE_POLICY in kinds) is asked


def test_signal_external_writes_initiated_and_arms_its_transfer() -> None:
    run = started_run()
    change = run.complete_task(
        command(
            C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
            execution=WorkflowExecution(workflow_id="other"),
            signal_name="ping",
            input=payloads(b"1"),
        )
    )
    attrs = run.history[-1].signal_external_workflow_execution_initiated_event_attributes
    assert (attrs.signal_name, attrs.workflow_execution.workflow_id) == ("ping", "other")
    assert attrs.namespace == NAMESPACE.name
    request = run.state.external[run.history[-1].event_id]
    assert request.kind == TimerKind.SIGNAL_EXTERNAL
    assert [t.kind for t in change.timers_added] == [TimerKind.SIGNAL_EXTERNAL]


def test_a_delivered_external_signal_is_recorded() -> None:
    run = started_run()
    run.complete_task(
        command(
            C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
            execution=WorkflowExecution(workflow_id="other"),
            signal_name="ping",
        )
    )
    initiated = run.history[-1]
    request = run.state.external[initiated.event_id]
    change = run.change()
    children.external_done(change, request, "ns-id", "other-run", None, initiated=initiated)
    run.commit(change)
    attrs = run.history[-2].external_workflow_execution_signaled_event_attributes
    assert run.history[-2].event_type == E.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
    assert attrs.initiated_event_id == initiated.event_id
    assert attrs.workflow_execution.run_id == "other-run"
    assert run.state.external == {}


def test_a_failed_external_cancel_is_recorded_with_its_cause() -> None:
    run = started_run()
    run.complete_task(command(C.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION, workflow_id="other"))
    initiated = run.history[-1]
    assert initiated.event_type == E.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
    request = run.state.external[initiated.event_id]
    change = run.change()
    children.external_done(change, request, "ns-id", "", 1, initiated=initiated)
    run.commit(change)
    event = run.history[-2]
    assert event.event_type == E.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
    attrs = event.request_cancel_external_workflow_execution_failed_event_attributes
    assert attrs.cause == 1
    assert (
        attrs.workflow_task_completed_event_id
        == initiated.request_cancel_external_workflow_execution_initiated_event_attributes.workflow_task_completed_event_id
    )


def test_a_child_without_a_workflow_id_is_refused() -> None:
    cmd = start_child("")
    with pytest.raises(InvalidArgumentError, match="WorkflowId is not set"):
        children.validate_start(cmd.start_child_workflow_execution_command_attributes, 0)  # type: ignore[attr-defined]


def test_too_many_pending_children_are_refused() -> None:
    cmd = start_child()
    with pytest.raises(InvalidArgumentError, match="limit of 2000"):
        children.validate_start(
            cmd.start_child_workflow_execution_command_attributes,  # type: ignore[attr-defined]
            children.MAX_PENDING_CHILDREN,
        )


# -- reset ----------------------------------------------------------------------------


def history_with_work() -> Run:
    run = started_run()
    run.complete_task(schedule_activity("a"), start_timer("t", 60))  # events 4-6
    return run


@pytest.mark.parametrize(("finish", "expected"), [(3, 3), (4, 3)])
def test_a_reset_point_is_a_task_started_or_finished_event(finish: int, expected: int) -> None:
    assert reset.started_event_id(history_with_work().history, finish) == expected


@pytest.mark.parametrize("finish", [0, 1, 5, 99])
def test_other_reset_points_are_refused(finish: int) -> None:
    with pytest.raises(InvalidArgumentError):
        reset.started_event_id(history_with_work().history, finish)


def reset_run(base: Run, started_id: int, *, reapply: bool = True) -> Change:
    old = base.state
    state = MutableState(
        namespace_id=old.namespace_id,
        namespace=old.namespace,
        workflow_id=old.workflow_id,
        run_id="reset-run",
        workflow_type=old.workflow_type,
        task_queue=old.task_queue,
        start_time=old.start_time,
        start_request_id="r",
        workflow_task_timeout=old.workflow_task_timeout,
        run_timeout=old.run_timeout,
        execution_timeout=old.execution_timeout,
    )
    change = Change(state, base.clock.now(), 0)
    reset.build(
        change,
        base.history,
        started_id,
        reason="oops",
        identity="admin",
        base_run_id=old.run_id,
        reapply_signals=reapply,
    )
    return change


def test_reset_copies_the_history_and_fails_the_chosen_task() -> None:
    base = history_with_work()
    base.clock.advance(10)
    change = reset_run(base, 3)
    assert [e.event_type for e in change.events] == [
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    attrs = change.events[3].workflow_task_failed_event_attributes
    assert attrs.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    assert (attrs.scheduled_event_id, attrs.started_event_id) == (2, 3)
    assert (attrs.base_run_id, attrs.new_run_id) == ("run-1", "reset-run")
    assert attrs.failure.message == "oops"
    assert [e.event_id for e in change.events] == [1, 2, 3, 4, 5]


def test_reset_after_work_rebuilds_and_redispatches_pending_activities_and_timers() -> None:
    base = history_with_work()
    base.next_task()  # events 7, 8: a later task started
    change = reset_run(base, 8)
    assert set(change.state.activities) == {5}
    assert set(change.state.timers) == {"t"}
    kinds = {t.kind for t in change.timers_added}
    assert TimerKind.USER_TIMER in kinds
    assert change.state.timers["t"].fire_at == T0 + 60
    assert [t.kind for t in change.tasks_added] == [TaskKind.ACTIVITY, TaskKind.WORKFLOW]
    assert change.state.previous_started_event_id == 3


def test_reset_reapplies_later_signals_unless_told_not_to() -> None:
    base = history_with_work()
    signal = HistoryEvent(event_type=E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, event_id=7)
    signal.workflow_execution_signaled_event_attributes.signal_name = "late"
    base.history.append(signal)
    with_signals = reset_run(base, 3)
    names = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in with_signals.events
        if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert names == ["late"]
    without = reset_run(base, 3, reapply=False)
    assert E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED not in [e.event_type for e in without.events]


# -- history limits --------------------------------------------------------------------


def test_a_history_over_the_count_limit_is_terminated() -> None:
    run = started_run()
    change = run.change()
    limits = dataclasses.replace(Limits(), history_count_error=2)
    assert size_limits.enforce(change, limits)
    attrs = change.events[-1].workflow_execution_terminated_event_attributes
    assert attrs.reason == size_limits.COUNT_EXCEEDED
    assert run.state.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED


def test_a_history_over_the_size_limit_is_terminated() -> None:
    run = started_run(start_request(input=payloads(b"x" * 500)))
    change = run.change()
    assert size_limits.enforce(change, dataclasses.replace(Limits(), history_size_error=400))
    reason = change.events[-1].workflow_execution_terminated_event_attributes.reason
    assert reason == size_limits.SIZE_EXCEEDED


def test_a_history_within_limits_is_left_alone() -> None:
    run = started_run()
    change = run.change()
    assert not size_limits.enforce(change, Limits())
    assert change.events == []


def test_a_closed_run_is_never_terminated_for_size() -> None:
    run = started_run()
    run.complete_task(command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION))
    change = run.change()
    assert not size_limits.enforce(change, dataclasses.replace(Limits(), history_count_error=1))


# -- the change --------------------------------------------------------------------------


def test_a_task_created_and_consumed_in_one_change_never_exists() -> None:
    run = started_run()
    run.complete_task()
    change = run.change()
    workflow_tasks.schedule(change)
    workflow_tasks.record_started(change, "w", "r", "")
    assert change.tasks_added == [] and change.tasks_removed == []


def test_the_write_counts_a_state_transition_unless_told_not_to() -> None:
    run = started_run()
    before = run.state.state_transitions
    change = run.change()
    change.counts_as_transition = False
    change.to_write()
    assert run.state.state_transitions == before
    run.change().to_write()
    assert run.state.state_transitions == before + 1


def test_the_write_carries_the_new_events_as_one_batch() -> None:
    run = started_run()
    change = run.change()
    user_timers.start(change, start_timer("t", 1).start_timer_command_attributes, 3)
    write = change.to_write()
    assert write.events is not None
    assert (write.events.first_event_id, write.events.last_event_id) == (4, 4)
    assert write.expected_version == run.version


def test_history_size_counts_the_events_of_the_change() -> None:
    run = started_run()
    stored = run.state.history_size
    change = run.change()
    event = change.add_event(E.EVENT_TYPE_MARKER_RECORDED)
    assert change.history_size() == stored + event.ByteSize()
