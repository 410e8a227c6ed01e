"""Each command's own checks, and what one task's commands count toward the next."""

from __future__ import annotations

import pytest
from temporalio.api.command.v1 import Command
from temporalio.api.enums.v1 import CommandType, WorkflowTaskFailedCause

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import activity_scheduling, children, command_checks
from cadenza.history.machine.command_checks import Batch
from cadenza.history.machine.rejections import CommandRejected
from tests.unit.history.builders import command, schedule_activity, start_timer, started_run

C = CommandType
Cause = WorkflowTaskFailedCause


def batch() -> Batch:
    return command_checks.new_batch(started_run().state, 1024, {})


def check(command: Command, batch: Batch) -> None:
    command_checks.VALIDATORS[command.command_type](command, batch)


def start_child(workflow_id: str = "child-1") -> Command:
    cmd = command(C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, workflow_id=workflow_id)
    cmd.start_child_workflow_execution_command_attributes.workflow_type.name = "Child"
    return cmd


def cancel_activity(scheduled_event_id: int) -> Command:
    return command(C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK, scheduled_event_id=scheduled_event_id)


def test_a_batch_starts_from_what_the_run_has_pending() -> None:
    run = started_run()
    run.complete_task(schedule_activity("a1"), start_timer("t1"))
    [scheduled] = run.state.activities
    b = command_checks.new_batch(run.state, 7, {})
    assert (b.pending_activities, b.pending_children) == (1, 0)
    assert (b.activities, b.activity_ids, b.timers) == ({scheduled}, {"a1"}, {"t1"})
    assert (b.memo_limit, b.namespace) == (7, run.state.namespace)


def test_each_scheduled_activity_counts_toward_the_next() -> None:
    b = batch()
    check(schedule_activity("a1"), b)
    assert (b.pending_activities, b.activity_ids) == (1, {"a1"})
    with pytest.raises(CommandRejected) as info:
        check(schedule_activity("a1"), b)
    assert info.value.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID


def test_the_pending_activity_limit_fails_the_task_with_its_own_cause() -> None:
    b = batch()
    b.pending_activities = activity_scheduling.MAX_PENDING_ACTIVITIES
    with pytest.raises(CommandRejected) as info:
        check(schedule_activity("a1"), b)
    assert info.value.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED


def test_the_pending_child_limit_fails_the_task_with_its_own_cause() -> None:
    b = batch()
    check(start_child(), b)
    assert b.pending_children == 1
    b.pending_children = children.MAX_PENDING_CHILDREN
    with pytest.raises(CommandRejected) as info:
        check(start_child("child-2"), b)
    assert info.value.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED


def test_an_activity_is_cancelled_once_per_task() -> None:
    b = batch()
    b.activities.add(5)
    check(cancel_activity(5), b)
    with pytest.raises(InvalidArgumentError, match="no such activity"):
        check(cancel_activity(5), b)


def test_a_timer_cancelled_in_a_task_may_be_started_again_in_it() -> None:
    b = batch()
    check(start_timer("t1"), b)
    check(command(C.COMMAND_TYPE_CANCEL_TIMER, timer_id="t1"), b)
    check(start_timer("t1"), b)
    assert b.timers == {"t1"}


def test_a_signal_to_another_workflow_needs_its_id_and_a_signal_name() -> None:
    cmd = command(C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION)
    with pytest.raises(InvalidArgumentError, match="WorkflowId is not set"):
        check(cmd, batch())
    cmd.signal_external_workflow_execution_command_attributes.execution.workflow_id = "other"
    with pytest.raises(InvalidArgumentError, match="SignalName is not set"):
        check(cmd, batch())


def test_a_child_memo_over_the_limit_ends_the_workflow() -> None:
    cmd = start_child()
    memo = cmd.start_child_workflow_execution_command_attributes.memo
    memo.fields["big"].data = b"x" * 2048
    with pytest.raises(CommandRejected) as info:
        check(cmd, batch())
    assert info.value.terminate
    assert info.value.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES


def test_closing_commands_and_messages_have_no_checks_of_their_own() -> None:
    b = batch()
    for kind in (
        C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        C.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
        C.COMMAND_TYPE_PROTOCOL_MESSAGE,
    ):
        check(command(kind), b)
