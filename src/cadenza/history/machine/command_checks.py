"""Each command's own checks, and the limits counted across one workflow task's commands.

``commands.validate`` walks a task's commands in order and applies the rules
that concern their sequence (a closing command last, no payload over the
limit); what one command of a given type must satisfy is here, one function
per type, so a command's rules can be read, and tested, on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio.api.command.v1 import Command
from temporalio.api.enums.v1 import CommandType as C
from temporalio.api.enums.v1 import WorkflowTaskFailedCause as Cause

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import (
    activity_scheduling,
    children,
    command_attributes,
    nexus_operations,
    user_timers,
)
from cadenza.history.machine.rejections import CommandRejected
from cadenza.history.machine.state import MutableState
from cadenza.validation import (
    cap_durations,
    check_failure,
    check_on_command,
    check_task_queue_on_command,
)
from cadenza.visibility import validation


@dataclass
class Batch:
    """What validation tracks across one task's commands: each command counts toward the next."""

    pending_activities: int
    pending_children: int
    timers: set[str]
    activities: set[int]
    activity_ids: set[str]
    memo_limit: int
    rules: dict[str, validation.Rules]
    """Search-attribute rules by namespace name: the run's own and its children's."""
    namespace: str
    endpoints: dict[str, str] = field(default_factory=dict)
    """Nexus endpoint IDs by name, for the endpoints the commands name that exist."""
    pending_nexus: int = 0
    cancelable_nexus: set[int] = field(default_factory=set)
    """The run's pending Nexus operations not yet asked to cancel, by scheduled event ID."""


def new_batch(
    state: MutableState,
    memo_limit: int,
    rules: dict[str, validation.Rules],
    endpoints: dict[str, str] | None = None,
) -> Batch:
    """A batch that starts from what the run already has pending."""
    return Batch(
        len(state.activities),
        len(state.children),
        set(state.timers),
        set(state.activities),
        {a.activity_id for a in state.activities.values()},
        memo_limit,
        rules,
        state.namespace,
        endpoints or {},
        len(state.nexus_operations),
        {k for k, op in state.nexus_operations.items() if not op.cancel_requested_event_id},
    )


def _validate_schedule_activity(command: Command, batch: Batch) -> None:
    if batch.pending_activities >= activity_scheduling.MAX_PENDING_ACTIVITIES:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
            f"the number of pending activities exceeds the limit of {activity_scheduling.MAX_PENDING_ACTIVITIES}",
        )
    attrs = command.schedule_activity_task_command_attributes
    activity_scheduling.validate(attrs, batch.pending_activities)
    if attrs.activity_id in batch.activity_ids:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
            "invalid history builder state for action: "
            f"add-activitytask-scheduled-event, ActivityID: {attrs.activity_id}",
        )
    batch.activity_ids.add(attrs.activity_id)
    batch.pending_activities += 1


def _validate_request_cancel_activity(command: Command, batch: Batch) -> None:
    scheduled = command.request_cancel_activity_task_command_attributes.scheduled_event_id
    if scheduled not in batch.activities:
        raise InvalidArgumentError(f"invalid scheduled event ID {scheduled}: no such activity")
    batch.activities.discard(scheduled)


def _validate_start_timer(command: Command, batch: Batch) -> None:
    attrs = command.start_timer_command_attributes
    user_timers.validate_start(attrs)
    if attrs.timer_id in batch.timers:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID,
            f"invalid history builder state for action: add-timer-started-event, TimerID: {attrs.timer_id}",
        )
    batch.timers.add(attrs.timer_id)


def _validate_cancel_timer(command: Command, batch: Batch) -> None:
    timer_id = command.cancel_timer_command_attributes.timer_id
    check_on_command(timer_id, "TimerId", "CancelTimer")
    if timer_id not in batch.timers:
        raise InvalidArgumentError(f"invalid timer ID {timer_id}: no such pending timer")
    batch.timers.discard(timer_id)


def _validate_marker(command: Command, batch: Batch) -> None:
    attrs = command.record_marker_command_attributes
    if not attrs.marker_name:
        raise InvalidArgumentError("MarkerName is not set on command.")
    check_on_command(attrs.marker_name, "MarkerName", "RecordMarker")
    if attrs.HasField("failure"):
        check_failure(attrs.failure)


def _validate_start_child(command: Command, batch: Batch) -> None:
    if batch.pending_children >= children.MAX_PENDING_CHILDREN:
        raise CommandRejected(
            Cause.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
            f"the number of pending child workflows exceeds the limit of {children.MAX_PENDING_CHILDREN}",
        )
    attrs = command.start_child_workflow_execution_command_attributes
    children.validate_start(attrs, batch.pending_children)
    target = attrs.namespace or batch.namespace
    command_attributes.check_child(attrs, target, batch.rules.get(target), batch.memo_limit)
    batch.pending_children += 1


def _validate_upsert_search_attributes(command: Command, batch: Batch) -> None:
    command_attributes.check_upsert(
        command.upsert_workflow_search_attributes_command_attributes, batch.rules.get(batch.namespace)
    )


def _validate_modify_properties(command: Command, batch: Batch) -> None:
    command_attributes.check_modify_properties(
        command.modify_workflow_properties_command_attributes, batch.memo_limit
    )


def _validate_signal_external(command: Command, batch: Batch) -> None:
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


def _validate_cancel_external(command: Command, batch: Batch) -> None:
    attrs = command.request_cancel_external_workflow_execution_command_attributes
    if not attrs.workflow_id:
        raise InvalidArgumentError("WorkflowId is not set on command.")
    check_on_command(attrs.namespace, "Namespace", "RequestCancelExternalWorkflowExecution")
    check_on_command(attrs.workflow_id, "WorkflowId", "RequestCancelExternalWorkflowExecution")


def _validate_fail_workflow(command: Command, batch: Batch) -> None:
    check_failure(command.fail_workflow_execution_command_attributes.failure)


def _validate_continue_as_new(command: Command, batch: Batch) -> None:
    attrs = command.continue_as_new_workflow_execution_command_attributes
    command_name = "ContinueAsNewWorkflowExecution"
    check_on_command(attrs.workflow_type.name, "WorkflowType", command_name)
    check_task_queue_on_command(attrs.task_queue.name, command_name)
    cap_durations(attrs, _CONTINUE_AS_NEW_DURATIONS, command_name)
    if attrs.HasField("retry_policy"):
        cap_durations(attrs.retry_policy, children.RETRY_DURATION_FIELDS, command_name)
    if attrs.HasField("failure"):
        check_failure(attrs.failure)
    command_attributes.check_continue_as_new(attrs, batch.rules.get(batch.namespace), batch.memo_limit)


_CONTINUE_AS_NEW_DURATIONS = (
    ("workflow_run_timeout", "WorkflowRunTimeout"),
    ("workflow_task_timeout", "WorkflowTaskTimeout"),
    ("backoff_start_interval", "BackoffStartInterval"),
)


def _no_checks(command: Command, batch: Batch) -> None:
    pass


def _validate_schedule_nexus(command: Command, batch: Batch) -> None:
    attrs = command.schedule_nexus_operation_command_attributes
    nexus_operations.validate_schedule(attrs, batch.endpoints, batch.pending_nexus)
    batch.pending_nexus += 1


def _validate_cancel_nexus(command: Command, batch: Batch) -> None:
    attrs = command.request_cancel_nexus_operation_command_attributes
    nexus_operations.validate_cancel(attrs, batch.cancelable_nexus)
    batch.cancelable_nexus.discard(attrs.scheduled_event_id)


VALIDATORS: dict[int, Callable[[Command, Batch], None]] = {
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
    C.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION: _validate_schedule_nexus,
    C.COMMAND_TYPE_REQUEST_CANCEL_NEXUS_OPERATION: _validate_cancel_nexus,
}
"""The commands Cadenza supports, each with its checks; any other is refused as unsupported."""
