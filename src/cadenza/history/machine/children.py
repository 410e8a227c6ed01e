"""Child workflows and requests to other workflows, as seen from the requesting run.

Work that touches another execution never happens inside this run's commit.
The command records an *Initiated* event together with an outbox entry (a
timer due at once, so it is durable); ``cadenza.history.service.transfers``
then does the cross-execution work and reports back with a second change to
this run.
"""

from __future__ import annotations

from temporalio.api.command.v1 import (
    RequestCancelExternalWorkflowExecutionCommandAttributes,
    SignalExternalWorkflowExecutionCommandAttributes,
    StartChildWorkflowExecutionCommandAttributes,
)
from temporalio.api.common.v1 import Header, WorkflowExecution
from temporalio.api.enums.v1 import EventType, ParentClosePolicy
from temporalio.api.history.v1 import HistoryEvent

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import priorities, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Child, ExternalRequest
from cadenza.protoutil import copy_common_fields, copy_field
from cadenza.timers.kinds import TimerKind
from cadenza.validation import cap_durations, check_on_command, check_task_queue_on_command

MAX_PENDING_CHILDREN = 2000

# Child close events on the parent, by the child's close event type.
CHILD_CLOSE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
}


CHILD_DURATION_FIELDS = (
    ("workflow_execution_timeout", "WorkflowExecutionTimeout"),
    ("workflow_run_timeout", "WorkflowRunTimeout"),
    ("workflow_task_timeout", "WorkflowTaskTimeout"),
)
RETRY_DURATION_FIELDS = (("initial_interval", "InitialInterval"), ("maximum_interval", "MaximumInterval"))


def validate_start(attrs: StartChildWorkflowExecutionCommandAttributes, pending: int) -> None:
    if not attrs.workflow_id:
        raise InvalidArgumentError("Required field WorkflowId is not set on command.")
    if not attrs.workflow_type.name:
        raise InvalidArgumentError("Required field WorkflowType is not set on command.")
    command = "StartChildWorkflowExecution"
    check_on_command(attrs.namespace, "Namespace", command)
    check_on_command(attrs.workflow_id, "WorkflowId", command)
    check_on_command(attrs.workflow_type.name, "WorkflowType", command)
    check_task_queue_on_command(attrs.task_queue.name, command)
    cap_durations(attrs, CHILD_DURATION_FIELDS, command)
    if attrs.HasField("retry_policy"):
        cap_durations(attrs.retry_policy, RETRY_DURATION_FIELDS, command)
    priorities.validate(attrs.priority)
    if pending >= MAX_PENDING_CHILDREN:
        raise InvalidArgumentError(
            f"the number of pending child workflows exceeds the limit of {MAX_PENDING_CHILDREN}"
        )


def initiate_child(
    change: Change, attrs: StartChildWorkflowExecutionCommandAttributes, completed_id: int
) -> None:
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
    out = event.start_child_workflow_execution_initiated_event_attributes
    copy_common_fields(attrs, out, skip=frozenset({"namespace", "task_queue"}))
    ev.drop_nil_values(out)
    _fill_timeouts(out)
    if not out.parent_close_policy:  # Temporal writes its default
        out.parent_close_policy = ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
    out.namespace = attrs.namespace or s.namespace
    out.namespace_id = s.namespace_id if out.namespace == s.namespace else ""
    out.task_queue.CopyFrom(ev.task_queue(attrs.task_queue.name or s.task_queue))
    out.workflow_task_completed_event_id = completed_id
    s.children[event.event_id] = Child(
        initiated_event_id=event.event_id,
        namespace=out.namespace,
        workflow_id=attrs.workflow_id,
        workflow_type=attrs.workflow_type.name,
        parent_close_policy=out.parent_close_policy,
    )
    change.add_timer(TimerKind.START_CHILD, change.now, event.event_id, 0)


def _fill_timeouts(out) -> None:  # type: ignore[no-untyped-def]
    """The run and task timeouts the child will have, written as Temporal writes them:
    the run timeout bounded by the execution timeout, the task timeout defaulted and
    bounded; zero (no timeout) written too."""
    execution = ev.seconds(out.workflow_execution_timeout)
    run = ev.seconds(out.workflow_run_timeout)
    if execution:
        run = min(run, execution) if run else execution
    task = min(
        ev.seconds(out.workflow_task_timeout) or workflow_tasks.DEFAULT_TIMEOUT, workflow_tasks.MAX_TIMEOUT
    )
    if run:
        task = min(task, run)
    out.workflow_run_timeout.CopyFrom(ev.duration(run))
    out.workflow_task_timeout.CopyFrom(ev.duration(task))


def child_started(
    change: Change, child: Child, run_id: str, namespace_id: str, header: Header | None = None
) -> None:
    event = change.add_or_buffer(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
    out = event.child_workflow_execution_started_event_attributes
    out.namespace = child.namespace
    out.namespace_id = namespace_id
    out.initiated_event_id = child.initiated_event_id
    out.workflow_execution.CopyFrom(WorkflowExecution(workflow_id=child.workflow_id, run_id=run_id))
    out.workflow_type.name = child.workflow_type
    if header is not None:  # the child's header, as its initiated event holds it
        out.header.CopyFrom(header)
    child.run_id = run_id
    child.started_event_id = event.event_id  # 0 while buffered; set when numbered

    workflow_tasks.ensure_scheduled(change)


def child_start_failed(change: Change, child: Child, cause: int, completed_id: int) -> None:
    event = change.add_or_buffer(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
    out = event.start_child_workflow_execution_failed_event_attributes
    out.namespace = child.namespace
    out.workflow_id = child.workflow_id
    out.workflow_type.name = child.workflow_type
    out.cause = cause  # type: ignore[assignment]
    out.initiated_event_id = child.initiated_event_id
    out.workflow_task_completed_event_id = completed_id
    del change.state.children[child.initiated_event_id]
    workflow_tasks.ensure_scheduled(change)


def child_closed(
    change: Change, child: Child, close_event: HistoryEvent, namespace_id: str, started_event_id: int
) -> None:
    """Report the child's close event to the parent as the matching ChildWorkflow* event."""
    kind = CHILD_CLOSE_EVENTS[close_event.event_type]
    event = change.add_or_buffer(kind)
    out = ev.attributes(event)
    src = ev.attributes(close_event)
    for name in ("result", "failure", "details", "retry_state"):
        if name in out.DESCRIPTOR.fields_by_name and name in src.DESCRIPTOR.fields_by_name:
            copy_field(src, out, name)
    out.namespace = child.namespace
    out.namespace_id = namespace_id
    out.workflow_execution.CopyFrom(WorkflowExecution(workflow_id=child.workflow_id, run_id=child.run_id))
    out.workflow_type.name = child.workflow_type
    out.initiated_event_id = child.initiated_event_id
    out.started_event_id = started_event_id
    del change.state.children[child.initiated_event_id]
    workflow_tasks.ensure_scheduled(change)


def schedule_parent_close_policies(change: Change) -> None:
    """On close, ask that children be terminated or cancelled as their policy says."""
    for child in change.state.children.values():
        if (
            child.parent_close_policy
            in (
                ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
                ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
            )
            or not child.parent_close_policy
        ):
            change.add_timer(TimerKind.PARENT_CLOSE_POLICY, change.now, child.initiated_event_id, 0)


def initiate_signal(
    change: Change, attrs: SignalExternalWorkflowExecutionCommandAttributes, completed_id: int
) -> None:
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
    out = event.signal_external_workflow_execution_initiated_event_attributes
    out.workflow_task_completed_event_id = completed_id
    out.namespace = attrs.namespace or s.namespace
    out.namespace_id = s.namespace_id if out.namespace == s.namespace else ""
    out.workflow_execution.CopyFrom(attrs.execution)
    out.signal_name = attrs.signal_name
    if attrs.HasField("input"):
        out.input.CopyFrom(attrs.input)
    out.control = attrs.control
    out.child_workflow_only = attrs.child_workflow_only
    if attrs.HasField("header"):
        out.header.CopyFrom(attrs.header)
    s.external[event.event_id] = ExternalRequest(
        event.event_id,
        TimerKind.SIGNAL_EXTERNAL,
        out.namespace,
        attrs.execution.workflow_id,
        attrs.execution.run_id,
    )
    change.add_timer(TimerKind.SIGNAL_EXTERNAL, change.now, event.event_id, 0)


def initiate_cancel(
    change: Change, attrs: RequestCancelExternalWorkflowExecutionCommandAttributes, completed_id: int
) -> None:
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
    out = event.request_cancel_external_workflow_execution_initiated_event_attributes
    out.workflow_task_completed_event_id = completed_id
    out.namespace = attrs.namespace or s.namespace
    out.namespace_id = s.namespace_id if out.namespace == s.namespace else ""
    out.workflow_execution.workflow_id = attrs.workflow_id
    out.workflow_execution.run_id = attrs.run_id
    out.control = attrs.control
    out.child_workflow_only = attrs.child_workflow_only
    out.reason = attrs.reason
    s.external[event.event_id] = ExternalRequest(
        event.event_id, TimerKind.CANCEL_EXTERNAL, out.namespace, attrs.workflow_id, attrs.run_id
    )
    change.add_timer(TimerKind.CANCEL_EXTERNAL, change.now, event.event_id, 0)


def external_done(
    change: Change,
    request: ExternalRequest,
    namespace_id: str,
    run_id: str,
    failed_cause: int | None,
    *,
    initiated: HistoryEvent,
) -> None:
    """Record the outcome of a signal or cancellation request to another workflow."""
    src = ev.attributes(initiated)
    if failed_cause is None:
        kind = (
            EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
            if request.kind == TimerKind.SIGNAL_EXTERNAL
            else EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED
        )
    else:
        kind = (
            EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
            if request.kind == TimerKind.SIGNAL_EXTERNAL
            else EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
        )
    event = change.add_or_buffer(kind)
    out = ev.attributes(event)
    out.initiated_event_id = request.initiated_event_id
    out.namespace = request.namespace
    out.namespace_id = namespace_id
    out.workflow_execution.workflow_id = request.workflow_id
    out.workflow_execution.run_id = run_id
    if hasattr(out, "control"):
        out.control = src.control
    if failed_cause is not None:
        out.cause = failed_cause
        out.workflow_task_completed_event_id = src.workflow_task_completed_event_id
    del change.state.external[request.initiated_event_id]
    workflow_tasks.ensure_scheduled(change)
