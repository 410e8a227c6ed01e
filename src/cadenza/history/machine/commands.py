"""Turns the commands of a completed workflow task into history events.

Every command is validated before any is applied, so a bad one fails the
workflow task and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from temporalio.api.command.v1 import Command
from temporalio.api.enums.v1 import (
    CommandType,
    EventType,
    WorkflowExecutionStatus,
    WorkflowTaskFailedCause,
)
from temporalio.api.protocol.v1 import Message

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import (
    activities,
    children,
    command_attributes,
    runs,
    updates,
    user_timers,
    visibility_fields,
)
from cadenza.history.machine.change import Change
from cadenza.history.machine.closing import close_execution
from cadenza.history.machine.rejections import CommandRejected
from cadenza.history.machine.state import Activity
from cadenza.protoutil import present
from cadenza.validation import (
    cap_durations,
    check_failure,
    check_on_command,
    check_task_queue_on_command,
)
from cadenza.visibility import validation

C = CommandType
Cause = WorkflowTaskFailedCause

_CLOSING = frozenset(
    {
        C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
        C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
        C.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
    }
)


@dataclass
class Outcome:
    """What applying the commands produced that the caller acts on."""

    scheduled_activities: list[tuple[Activity, bool]] = field(default_factory=list)
    """Each new activity, and whether the worker asked to run it eagerly."""
    closed: bool = False


@dataclass(frozen=True)
class Checks:
    """The limits and rules commands are checked against, beyond the run's own state."""

    blob_limit: int
    memo_limit: int
    rules: dict[str, validation.Rules] = field(default_factory=dict)
    """Search-attribute rules by namespace name: the run's own and its children's."""


@dataclass
class _Batch:
    """What validation tracks across one task's commands."""

    pending_activities: int
    pending_children: int
    timers: set[str]
    activities: set[int]
    activity_ids: set[str]
    checks: Checks
    namespace: str


def starts_new_run(commands: Sequence[Command]) -> bool:
    return any(c.command_type == C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION for c in commands)


def validate(
    commands: Sequence[Command], change: Change, checks: Checks, messages: Sequence[Message] = ()
) -> None:
    for message in messages:
        try:
            updates.check_body(message)
        except InvalidArgumentError as exc:
            raise CommandRejected(
                Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, exc.message
            ) from exc
    s = change.state
    batch = _Batch(
        len(s.activities),
        len(s.children),
        set(s.timers),
        set(s.activities),
        {a.activity_id for a in s.activities.values()},
        checks,
        s.namespace,
    )
    for index, command in enumerate(commands):
        kind = command.command_type
        if kind not in C.values():
            # As on Temporal: refused without failing the task, which the worker can retry.
            raise InvalidArgumentError(f"unknown command type: {kind}")
        validator = _VALIDATORS.get(kind)
        if validator is None:
            raise CommandRejected(
                _bad_attributes_cause(kind),
                f"Cadenza does not support command {C.Name(kind)} yet.",
            )
        if kind in _CLOSING and index != len(commands) - 1:
            raise CommandRejected(
                Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                "a workflow-closing command must be the last command",
            )
        oversized = _oversized_payload(command, checks.blob_limit)
        if oversized:
            raise CommandRejected(
                Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                f"{oversized} exceeds size limit.",
                terminate=True,
            )
        if kind in _CLOSING and change.has_buffered:
            # New events arrived while the task ran; the workflow must see them first.
            raise CommandRejected(Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, "")
        try:
            validator(command, batch)
        except InvalidArgumentError as exc:
            raise CommandRejected(_bad_attributes_cause(kind), exc.message) from exc


_PAYLOAD_FIELDS: dict[int, tuple[str, str, str]] = {
    C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: (
        "schedule_activity_task_command_attributes",
        "input",
        "ScheduleActivityTaskCommandAttributes.Input",
    ),
    C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: (
        "complete_workflow_execution_command_attributes",
        "result",
        "CompleteWorkflowExecutionCommandAttributes.Result",
    ),
    C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: (
        "fail_workflow_execution_command_attributes",
        "failure",
        "FailWorkflowExecutionCommandAttributes.Failure",
    ),
}


def _oversized_payload(command: Command, limit: int) -> str:
    """The name Temporal gives a payload above the blob size limit, if the command has one."""
    where = _PAYLOAD_FIELDS.get(command.command_type)
    if where is None:
        return ""
    attrs = getattr(command, where[0])
    return where[2] if getattr(attrs, where[1]).ByteSize() > limit else ""


def _validate_schedule_activity(command: Command, batch: _Batch) -> None:
    if batch.pending_activities >= activities.MAX_PENDING_ACTIVITIES:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
            f"the number of pending activities exceeds the limit of {activities.MAX_PENDING_ACTIVITIES}",
        )
    attrs = command.schedule_activity_task_command_attributes
    activities.validate(attrs, batch.pending_activities)
    if attrs.activity_id in batch.activity_ids:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
            "invalid history builder state for action: "
            f"add-activitytask-scheduled-event, ActivityID: {attrs.activity_id}",
        )
    batch.activity_ids.add(attrs.activity_id)
    batch.pending_activities += 1


def _validate_request_cancel_activity(command: Command, batch: _Batch) -> None:
    scheduled = command.request_cancel_activity_task_command_attributes.scheduled_event_id
    if scheduled not in batch.activities:
        raise InvalidArgumentError(f"invalid scheduled event ID {scheduled}: no such activity")
    batch.activities.discard(scheduled)


def _validate_start_timer(command: Command, batch: _Batch) -> None:
    attrs = command.start_timer_command_attributes
    user_timers.validate_start(attrs)
    if attrs.timer_id in batch.timers:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID,
            f"invalid history builder state for action: add-timer-started-event, TimerID: {attrs.timer_id}",
        )
    batch.timers.add(attrs.timer_id)


def _validate_cancel_timer(command: Command, batch: _Batch) -> None:
    timer_id = command.cancel_timer_command_attributes.timer_id
    check_on_command(timer_id, "TimerId", "CancelTimer")
    if timer_id not in batch.timers:
        raise InvalidArgumentError(f"invalid timer ID {timer_id}: no such pending timer")
    batch.timers.discard(timer_id)


def _validate_marker(command: Command, batch: _Batch) -> None:
    attrs = command.record_marker_command_attributes
    if not attrs.marker_name:
        raise InvalidArgumentError("MarkerName is not set on command.")
    check_on_command(attrs.marker_name, "MarkerName", "RecordMarker")
    if attrs.HasField("failure"):
        check_failure(attrs.failure)


def _validate_start_child(command: Command, batch: _Batch) -> None:
    if batch.pending_children >= children.MAX_PENDING_CHILDREN:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
            f"the number of pending child workflows exceeds the limit of {children.MAX_PENDING_CHILDREN}",
        )
    attrs = command.start_child_workflow_execution_command_attributes
    children.validate_start(attrs, batch.pending_children)
    target = attrs.namespace or batch.namespace
    command_attributes.check_child(attrs, target, batch.checks.rules.get(target), batch.checks.memo_limit)
    batch.pending_children += 1


def _validate_upsert_search_attributes(command: Command, batch: _Batch) -> None:
    command_attributes.check_upsert(
        command.upsert_workflow_search_attributes_command_attributes, batch.checks.rules.get(batch.namespace)
    )


def _validate_modify_properties(command: Command, batch: _Batch) -> None:
    command_attributes.check_modify_properties(
        command.modify_workflow_properties_command_attributes, batch.checks.memo_limit
    )


def _validate_signal_external(command: Command, batch: _Batch) -> None:
    attrs = command.signal_external_workflow_execution_command_attributes
    if not attrs.execution.workflow_id:
        raise InvalidArgumentError("WorkflowId is not set on command.")
    command_name = "SignalExternalWorkflowExecution"
    check_on_command(attrs.namespace, "Namespace", command_name)
    check_on_command(attrs.execution.workflow_id, "WorkflowId", command_name)
    if not attrs.signal_name:
        raise InvalidArgumentError("SignalName is not set on command.")
    # Stricter than Temporal, which takes any length here: SignalWorkflowExecution would not.
    check_on_command(attrs.signal_name, "SignalName", command_name)


def _validate_cancel_external(command: Command, batch: _Batch) -> None:
    attrs = command.request_cancel_external_workflow_execution_command_attributes
    if not attrs.workflow_id:
        raise InvalidArgumentError("WorkflowId is not set on command.")
    check_on_command(attrs.namespace, "Namespace", "RequestCancelExternalWorkflowExecution")
    check_on_command(attrs.workflow_id, "WorkflowId", "RequestCancelExternalWorkflowExecution")


def _validate_fail_workflow(command: Command, batch: _Batch) -> None:
    check_failure(command.fail_workflow_execution_command_attributes.failure)


def _validate_continue_as_new(command: Command, batch: _Batch) -> None:
    attrs = command.continue_as_new_workflow_execution_command_attributes
    command_name = "ContinueAsNewWorkflowExecution"
    check_on_command(attrs.workflow_type.name, "WorkflowType", command_name)
    check_task_queue_on_command(attrs.task_queue.name, command_name)
    cap_durations(attrs, _CONTINUE_AS_NEW_DURATIONS, command_name)
    if attrs.HasField("retry_policy"):
        cap_durations(attrs.retry_policy, children.RETRY_DURATION_FIELDS, command_name)
    if attrs.HasField("failure"):
        check_failure(attrs.failure)
    command_attributes.check_continue_as_new(
        attrs, batch.checks.rules.get(batch.namespace), batch.checks.memo_limit
    )


_CONTINUE_AS_NEW_DURATIONS = (
    ("workflow_run_timeout", "WorkflowRunTimeout"),
    ("workflow_task_timeout", "WorkflowTaskTimeout"),
    ("backoff_start_interval", "BackoffStartInterval"),
)


def _no_checks(command: Command, batch: _Batch) -> None:
    pass


_VALIDATORS: dict[int, Callable[[Command, _Batch], None]] = {
    C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: _validate_schedule_activity,
    C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: _validate_request_cancel_activity,
    C.COMMAND_TYPE_START_TIMER: _validate_start_timer,
    C.COMMAND_TYPE_CANCEL_TIMER: _validate_cancel_timer,
    C.COMMAND_TYPE_RECORD_MARKER: _validate_marker,
    C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: _validate_upsert_search_attributes,
    C.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: _validate_modify_properties,
    C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: _no_checks,
    C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: _validate_fail_workflow,
    C.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION: _no_checks,
    C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: _validate_continue_as_new,
    C.COMMAND_TYPE_PROTOCOL_MESSAGE: _no_checks,
    C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: _validate_start_child,
    C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: _validate_signal_external,
    C.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: _validate_cancel_external,
}


def apply(
    commands: Sequence[Command],
    change: Change,
    completed_event_id: int,
    identity: str,
    on_message: Callable[[str], None],
) -> Outcome:
    """Apply every command in order; protocol messages are handed to ``on_message`` by ID."""
    outcome = Outcome()
    for command in commands:
        if command.command_type == C.COMMAND_TYPE_PROTOCOL_MESSAGE:
            on_message(command.protocol_message_command_attributes.message_id)
        else:
            first_new = len(change.events)
            _apply_one(command, change, completed_event_id, identity, outcome)
            if command.HasField("user_metadata") and len(change.events) > first_new:
                # Summaries and details the SDK attaches travel on the command's event.
                change.events[first_new].user_metadata.CopyFrom(command.user_metadata)
    return outcome


def _apply_one(command: Command, change: Change, completed_id: int, identity: str, outcome: Outcome) -> None:
    kind = command.command_type
    if kind == C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
        attrs = command.schedule_activity_task_command_attributes
        activity = activities.schedule(change, attrs, completed_id)
        outcome.scheduled_activities.append((activity, attrs.request_eager_execution))
    elif kind == C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
        scheduled = command.request_cancel_activity_task_command_attributes.scheduled_event_id
        activities.request_cancel(change, change.state.activities[scheduled], completed_id)
    elif kind == C.COMMAND_TYPE_START_TIMER:
        user_timers.start(change, command.start_timer_command_attributes, completed_id)
    elif kind == C.COMMAND_TYPE_CANCEL_TIMER:
        user_timers.cancel(change, command.cancel_timer_command_attributes, completed_id, identity)
    elif kind == C.COMMAND_TYPE_RECORD_MARKER:
        _record_marker(command, change, completed_id)
    elif kind == C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        event = change.add_event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
        out = event.upsert_workflow_search_attributes_event_attributes
        out.workflow_task_completed_event_id = completed_id
        out.search_attributes.CopyFrom(
            command.upsert_workflow_search_attributes_command_attributes.search_attributes
        )
        visibility_fields.upsert_search_attributes(change.state, out.search_attributes)
    elif kind == C.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
        props = event.workflow_properties_modified_event_attributes
        props.workflow_task_completed_event_id = completed_id
        props.upserted_memo.CopyFrom(command.modify_workflow_properties_command_attributes.upserted_memo)
        visibility_fields.upsert_memo(change.state, props.upserted_memo)
    elif kind == C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
        children.initiate_child(
            change, command.start_child_workflow_execution_command_attributes, completed_id
        )
    elif kind == C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
        children.initiate_signal(
            change, command.signal_external_workflow_execution_command_attributes, completed_id
        )
    elif kind == C.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
        children.initiate_cancel(
            change, command.request_cancel_external_workflow_execution_command_attributes, completed_id
        )
    else:
        _close_by_command(command, change, completed_id)
        outcome.closed = True


def _record_marker(command: Command, change: Change, completed_id: int) -> None:
    src = command.record_marker_command_attributes
    event = change.add_event(EventType.EVENT_TYPE_MARKER_RECORDED)
    out = event.marker_recorded_event_attributes
    out.marker_name = src.marker_name
    for key, payloads in src.details.items():
        out.details[key].CopyFrom(payloads)
    out.workflow_task_completed_event_id = completed_id
    if src.HasField("header"):
        out.header.CopyFrom(src.header)
    if src.HasField("failure"):
        out.failure.CopyFrom(src.failure)


def _close_by_command(command: Command, change: Change, completed_id: int) -> None:
    kind = command.command_type
    if kind == C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
        src = command.complete_workflow_execution_command_attributes
        runs.complete(change, present(src, "result"), completed_id)
    elif kind == C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
        runs.fail(change, command.fail_workflow_execution_command_attributes.failure, completed_id)
    elif kind == C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
        runs.continue_as_new(
            change, command.continue_as_new_workflow_execution_command_attributes, completed_id
        )
    else:
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
        canceled = event.workflow_execution_canceled_event_attributes
        canceled.workflow_task_completed_event_id = completed_id
        src_c = command.cancel_workflow_execution_command_attributes
        if src_c.HasField("details"):
            canceled.details.CopyFrom(src_c.details)
        close_execution(change, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED)


_CAUSES: dict[int, int] = {
    C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
    C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
    C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
    C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
    C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
    C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
}
"""Commands whose cause is not named BAD_<COMMAND>_ATTRIBUTES."""


def _bad_attributes_cause(command_type: int) -> int:
    """Temporal's BAD_<COMMAND>_ATTRIBUTES cause for a command type, if it has one."""
    if command_type in _CAUSES:
        return _CAUSES[command_type]
    try:
        name = C.Name(command_type).removeprefix("COMMAND_TYPE_")  # type: ignore[arg-type]
        return Cause.Value(f"WORKFLOW_TASK_FAILED_CAUSE_BAD_{name}_ATTRIBUTES")
    except ValueError:  # a command with no cause of its own
        return Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
