"""Commands of a completed workflow task: validation causes and the events each produces."""

from __future__ import annotations

import pytest
from temporalio.api.command.v1 import Command
from temporalio.api.common.v1 import Memo, Payload, SearchAttributes
from temporalio.api.enums.v1 import CommandType, EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.sdk.v1 import UserMetadata

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import commands, signals, user_timers
from cadenza.history.machine.rejections import CommandRejected
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import (
    T0,
    Run,
    command,
    duration,
    payloads,
    schedule_activity,
    start_timer,
    started_run,
)

C = CommandType
E = EventType
Cause = WorkflowTaskFailedCause


def rejected(run: Run, *cmds: Command) -> CommandRejected:
    with pytest.raises(CommandRejected) as info:
        run.complete_task(*cmds)
    return info.value


def test_start_timer_writes_timer_started_and_arms_a_durable_timer() -> None:
    run = started_run()
    run.clock.advance(1)
    change = run.complete_task(start_timer("t1", 5))
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_TIMER_STARTED
    attrs = event.timer_started_event_attributes
    assert attrs.timer_id == "t1" and attrs.workflow_task_completed_event_id == event.event_id - 1
    [timer] = [t for t in change.timers_added if t.kind == TimerKind.USER_TIMER]
    assert (timer.fire_at, timer.event_id) == (T0 + 6, event.event_id)
    assert run.state.timers["t1"].fire_at == T0 + 6


def test_a_fired_timer_writes_timer_fired_and_schedules_a_task() -> None:
    run = started_run()
    run.complete_task(start_timer("t1", 5))
    started_id = run.history[-1].event_id
    run.clock.advance(5)
    change = run.change()
    user_timers.fire(change, started_id)
    run.commit(change)
    assert run.event_types()[-2:] == [E.EVENT_TYPE_TIMER_FIRED, E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]
    attrs = run.history[-2].timer_fired_event_attributes
    assert (attrs.timer_id, attrs.started_event_id) == ("t1", started_id)
    assert run.state.timers == {}


def test_a_timer_that_is_gone_fires_nothing() -> None:
    run = started_run()
    change = run.change()
    user_timers.fire(change, 99)
    assert change.events == [] and change.tasks_added == []


def test_cancel_timer_writes_timer_canceled_and_drops_the_durable_timer() -> None:
    run = started_run()
    run.complete_task(start_timer("t1", 5))
    record_id = run.state.timers["t1"].record_id
    run.next_task()
    change = run.complete_task(command(C.COMMAND_TYPE_CANCEL_TIMER, timer_id="t1"))
    attrs = run.history[-1].timer_canceled_event_attributes
    assert run.history[-1].event_type == E.EVENT_TYPE_TIMER_CANCELED
    assert attrs.timer_id == "t1" and attrs.identity == "worker-1"
    assert record_id in change.timers_removed and run.state.timers == {}


def test_cancelling_an_unknown_timer_is_rejected() -> None:
    exc = rejected(started_run(), command(C.COMMAND_TYPE_CANCEL_TIMER, timer_id="nope"))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES


def test_starting_a_timer_twice_in_one_task_is_rejected() -> None:
    exc = rejected(started_run(), start_timer("t1"), start_timer("t1"))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID
    assert "add-timer-started-event, TimerID: t1" in exc.full_message


def test_a_timer_without_an_id_is_rejected() -> None:
    exc = rejected(started_run(), start_timer(""))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES
    assert "TimerId is not set" in exc.full_message


def test_two_activities_with_one_id_are_rejected() -> None:
    exc = rejected(started_run(), schedule_activity("a"), schedule_activity("a"))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID


def test_a_rejected_batch_changes_nothing() -> None:
    run = started_run()
    before = (len(run.history), run.state.next_event_id)
    rejected(run, schedule_activity("a"), start_timer(""))
    assert (len(run.history), run.state.next_event_id) == before
    assert run.state.activities == {}


def test_a_closing_command_must_be_last() -> None:
    exc = rejected(started_run(), command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION), start_timer("t1"))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND


def test_closing_with_unseen_events_is_an_unhandled_command() -> None:
    run = started_run()
    change = run.change()
    signals.record(change, signals.Signal("s", None, "c"))
    run.commit(change)
    exc = rejected(run, command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND


def test_an_unknown_command_type_is_refused_without_failing_the_task() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown command type: 999"):
        started_run().complete_task(Command(command_type=999))  # type: ignore[arg-type]


def test_a_nexus_operation_on_an_unknown_endpoint_names_its_bad_attributes_cause() -> None:
    schedule = Command(command_type=C.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION)
    attrs = schedule.schedule_nexus_operation_command_attributes
    attrs.endpoint, attrs.service, attrs.operation = "nowhere", "svc", "op"
    exc = rejected(started_run(), schedule)
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_NEXUS_OPERATION_ATTRIBUTES
    assert "'nowhere' not found" in exc.full_message


def test_a_payload_over_the_blob_limit_ends_the_workflow() -> None:
    run = started_run()
    big = command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, result=payloads(b"x" * (2 * 1024 * 1024 + 1)))
    exc = rejected(run, big)
    assert exc.terminate


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        (
            C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
        ),
        (
            C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
        ),
        (C.COMMAND_TYPE_START_TIMER, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES),
        (
            C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
        ),
        (
            C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
        ),
        (
            C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
        ),
        (
            C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
        ),
        (C.COMMAND_TYPE_RECORD_MARKER, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES),
        (C.COMMAND_TYPE_CANCEL_TIMER, Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES),
        (C.COMMAND_TYPE_PROTOCOL_MESSAGE, Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND),
    ],
)
def test_each_command_has_its_bad_attributes_cause(kind: int, cause: int) -> None:
    assert commands._bad_attributes_cause(kind) == cause


def test_a_marker_records_its_details_and_failure() -> None:
    run = started_run()
    cmd = command(
        C.COMMAND_TYPE_RECORD_MARKER, marker_name="LocalActivity", failure=Failure(message="la failed")
    )
    cmd.record_marker_command_attributes.details["data"].CopyFrom(payloads(b"7"))
    run.complete_task(cmd)
    attrs = run.history[-1].marker_recorded_event_attributes
    assert run.history[-1].event_type == E.EVENT_TYPE_MARKER_RECORDED
    assert attrs.marker_name == "LocalActivity"
    assert attrs.details["data"].payloads[0].data == b"7"
    assert attrs.failure.message == "la failed"


def test_a_marker_without_a_name_is_rejected() -> None:
    exc = rejected(started_run(), command(C.COMMAND_TYPE_RECORD_MARKER))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES


def test_upserted_search_attributes_reach_the_event_and_the_state() -> None:
    run = started_run()
    sa = SearchAttributes(
        indexed_fields={
            "CustomKeywordField": Payload(
                metadata={"encoding": b"json/plain", "type": b"Keyword"}, data=b'"v"'
            )
        }
    )
    run.complete_task(command(C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, search_attributes=sa))
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    assert event.upsert_workflow_search_attributes_event_attributes.search_attributes == sa
    assert "CustomKeywordField" in run.state.search_attributes


def test_a_memo_upsert_writes_properties_modified() -> None:
    run = started_run()
    memo = Memo(fields={"k": Payload(metadata={"encoding": b"json/plain"}, data=b"1")})
    run.complete_task(command(C.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, upserted_memo=memo))
    event = run.history[-1]
    assert event.event_type == E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED
    assert event.workflow_properties_modified_event_attributes.upserted_memo == memo
    assert run.state.memo


def test_user_metadata_travels_on_the_command_event() -> None:
    run = started_run()
    cmd = start_timer("t1", 1)
    cmd.user_metadata.CopyFrom(UserMetadata(summary=Payload(data=b'"nap"')))
    run.complete_task(cmd)
    assert run.history[-1].user_metadata.summary.data == b'"nap"'


def test_commands_are_applied_in_order_with_consecutive_ids() -> None:
    run = started_run()
    run.complete_task(schedule_activity("a"), start_timer("t"), schedule_activity("b"))
    assert run.event_types()[-3:] == [
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        E.EVENT_TYPE_TIMER_STARTED,
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    ]
    completed_id = run.history[-4].event_id
    assert {
        run.history[i].activity_task_scheduled_event_attributes.workflow_task_completed_event_id
        for i in (-3, -1)
    } == {completed_id}


def test_request_cancel_of_an_unknown_activity_is_rejected() -> None:
    exc = rejected(started_run(), command(C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK, scheduled_event_id=42))
    assert exc.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES


def test_starts_new_run_sees_continue_as_new() -> None:
    assert commands.starts_new_run(
        [start_timer(), command(C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)]
    )
    assert not commands.starts_new_run([command(C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)])


def test_a_timer_duration_is_kept_as_given() -> None:
    run = started_run()
    run.complete_task(start_timer("t", 2.5))
    assert run.history[-1].timer_started_event_attributes.start_to_fire_timeout == duration(2.5)
