"""Turns the commands of a completed workflow task into history events.

Every command is validated before any is applied, so a bad one fails the
workflow task and changes nothing else. This module walks a task's commands
twice, checking what concerns their order and then applying each; what a single
command must satisfy is in ``command_checks``.
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
    activity_scheduling,
    children,
    command_checks,
    nexus_operations,
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
    endpoints: dict[str, str] = field(default_factory=dict)
    """Nexus endpoint IDs by name, as the commands were checked against them."""


@dataclass(frozen=True)
class Checks:
    """The limits and rules commands are checked against, beyond the run's own state."""

    blob_limit: int
    memo_limit: int
    rules: dict[str, validation.Rules] = field(default_factory=dict)
    """Search-attribute rules by namespace name: the run's own and its children's."""
    endpoints: dict[str, str] = field(default_factory=dict)
    """Nexus endpoint IDs by name: those the commands name that exist."""


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
    batch = command_checks.new_batch(change.state, checks.memo_limit, checks.rules, checks.endpoints)
    for index, command in enumerate(commands):
        kind = command.command_type
        if kind not in C.values():
            # As on Temporal: refused without failing the task, which the worker can retry.
            raise InvalidArgumentError(f"unknown command type: {kind}")
        validator = command_checks.VALIDATORS.get(kind)
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


def apply(
    commands: Sequence[Command],
    change: Change,
    completed_event_id: int,
    identity: str,
    on_message: Callable[[str], None],
    endpoints: dict[str, str] | None = None,
) -> Outcome:
    """Apply every command in order; protocol messages are handed to ``on_message`` by ID."""
    outcome = Outcome(endpoints=endpoints or {})
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
        activity = activity_scheduling.schedule(change, attrs, completed_id)
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
    elif kind == C.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION:
        attrs_n = command.schedule_nexus_operation_command_attributes
        nexus_operations.schedule(change, attrs_n, outcome.endpoints[attrs_n.endpoint], completed_id)
    elif kind == C.COMMAND_TYPE_REQUEST_CANCEL_NEXUS_OPERATION:
        scheduled_n = command.request_cancel_nexus_operation_command_attributes.scheduled_event_id
        nexus_operations.request_cancel(change, change.state.nexus_operations[scheduled_n], completed_id)
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
