"""Turns the commands of a completed workflow task into history events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.api.command.v1 import Command
from temporalio.api.enums.v1 import (
    CommandType,
    EventType,
    RetryState,
    WorkflowExecutionStatus,
    WorkflowTaskFailedCause,
)

from cadenza.exceptions import InvalidArgumentError
from cadenza.history import activities
from cadenza.history.change import Change
from cadenza.history.state import Activity

_SUPPORTED = frozenset(
    {
        CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
    }
)
_CLOSING = frozenset(
    {
        CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
    }
)


class CommandRejected(Exception):
    """A command cannot be applied; the workflow task fails with ``cause``."""

    def __init__(self, cause: int, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


@dataclass
class Outcome:
    """What applying the commands produced that the caller acts on."""

    scheduled_activities: list[tuple[Activity, bool]] = field(default_factory=list)
    """Each new activity, and whether the worker asked to run it eagerly."""
    closed: bool = False


def validate(commands: Sequence[Command], change: Change, blob_limit: int) -> None:
    """Check every command before any is applied, so a bad one changes nothing."""
    pending = len(change.state.activities)
    for index, command in enumerate(commands):
        kind = command.command_type
        if kind not in _SUPPORTED:
            raise CommandRejected(
                _bad_attributes_cause(kind),
                f"Cadenza does not support command {CommandType.Name(kind)} yet.",
            )
        if kind in _CLOSING and index != len(commands) - 1:
            raise CommandRejected(
                WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                "a workflow-closing command must be the last command",
            )
        if command.ByteSize() > blob_limit:
            raise CommandRejected(
                _bad_attributes_cause(kind), "command payload size exceeds the blob size limit"
            )
        if kind == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
            try:
                activities.validate(command.schedule_activity_task_command_attributes, pending)
            except InvalidArgumentError as exc:
                raise CommandRejected(
                    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                    exc.message,
                ) from exc
            pending += 1
        if kind in _CLOSING and change.has_buffered:
            raise CommandRejected(
                WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                "new events arrived while the workflow task ran; the workflow must see them first",
            )


def apply(commands: Sequence[Command], change: Change, completed_event_id: int) -> Outcome:
    outcome = Outcome()
    for command in commands:
        kind = command.command_type
        if kind == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
            attrs = command.schedule_activity_task_command_attributes
            activity = activities.schedule(change, attrs, completed_event_id)
            outcome.scheduled_activities.append((activity, attrs.request_eager_execution))
        elif kind == CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
            event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
            out = event.workflow_execution_completed_event_attributes
            src = command.complete_workflow_execution_command_attributes
            if src.HasField("result"):
                out.result.CopyFrom(src.result)
            out.workflow_task_completed_event_id = completed_event_id
            close_execution(change, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED)
            outcome.closed = True
        elif kind == CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
            event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
            out_f = event.workflow_execution_failed_event_attributes
            out_f.failure.CopyFrom(command.fail_workflow_execution_command_attributes.failure)
            out_f.retry_state = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
            out_f.workflow_task_completed_event_id = completed_event_id
            close_execution(change, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED)
            outcome.closed = True
    return outcome


def close_execution(change: Change, status: int) -> None:
    """Mark the run closed and drop everything still pending on it."""
    s = change.state
    s.status = status
    s.close_time = change.now
    s.close_event_id = change.events[-1].event_id
    change.status_changed = True
    for activity in s.activities.values():
        change.remove_task(activity.task_id)
        change.remove_timer(activity.timer_id)
        change.remove_timer(activity.attempt_timer_id)
    s.activities.clear()
    if s.workflow_task is not None:
        change.remove_task(s.workflow_task.task_id)
        change.remove_timer(s.workflow_task.timer_id)
        s.workflow_task = None
    s.buffered_events = []


def _bad_attributes_cause(command_type: int) -> int:
    """Temporal's BAD_<COMMAND>_ATTRIBUTES cause for a command type, if it has one."""
    name = CommandType.Name(command_type).removeprefix("COMMAND_TYPE_")  # type: ignore[arg-type]
    try:
        return WorkflowTaskFailedCause.Value(f"WORKFLOW_TASK_FAILED_CAUSE_BAD_{name}_ATTRIBUTES")
    except ValueError:
        return WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
