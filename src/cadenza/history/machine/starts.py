"""Starting a workflow: validation, the ID reuse and conflict policies, the first events."""

from __future__ import annotations

import math
from dataclasses import dataclass

from temporalio.api.enums.v1 import (
    EventType,
    WorkflowExecutionStatus,
    WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy,
)
from temporalio.api.history.v1 import HistoryEvent, WorkflowExecutionStartedEventAttributes
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.config import Limits
from cadenza.exceptions import InvalidArgumentError, WorkflowAlreadyStartedError
from cadenza.history.machine import events as ev
from cadenza.history.machine import priorities, retry, runs, versioning, visibility_fields, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.encoded import encode_blob
from cadenza.history.machine.state import MutableState, RetryPolicy
from cadenza.persistence.records import CurrentExecution, NamespaceRecord
from cadenza.validation import cap_durations, check_length, check_length_counted

_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
_SUCCEEDED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
_DURATION_FIELDS = (
    ("workflow_execution_timeout", "WorkflowExecutionTimeoutSeconds"),
    ("workflow_run_timeout", "WorkflowRunTimeoutSeconds"),
    ("workflow_task_timeout", "WorkflowTaskTimeoutSeconds"),
    ("workflow_start_delay", "WorkflowStartDelaySeconds"),
)
_RETRY_DURATION_FIELDS = (
    ("initial_interval", "InitialInterval"),
    ("maximum_interval", "MaximumInterval"),
)


def validate(request: StartWorkflowExecutionRequest, limits: Limits) -> None:
    """Reject a malformed start request with Temporal's messages."""
    if not request.workflow_id:
        raise InvalidArgumentError("WorkflowId is not set on request.")
    check_length_counted(request.workflow_id, "WorkflowId")
    if not request.workflow_type.name:
        raise InvalidArgumentError("WorkflowType is not set on request.")
    check_length(request.workflow_type.name, "WorkflowType length exceeds limit.")
    if not request.task_queue.name:
        raise InvalidArgumentError("missing task queue name")
    check_length(request.task_queue.name, "taskQueue length exceeds limit")
    if request.task_queue.name.startswith("/_sys/"):
        raise InvalidArgumentError("task queue name cannot start with reserved prefix /_sys/")
    check_length(request.request_id, "RequestId length exceeds limit.")
    # Capped in place: the started event and every deadline then stay representable.
    cap_durations(request, _DURATION_FIELDS)
    if request.HasField("retry_policy"):
        cap_durations(request.retry_policy, _RETRY_DURATION_FIELDS)
    if request.input.ByteSize() > limits.blob_size_error:
        raise InvalidArgumentError("Blob data size exceeds limit.")
    if request.memo.ByteSize() > limits.memo_size_error:
        raise InvalidArgumentError("Memo size exceeds limit.")
    if request.cron_schedule and ev.seconds(request.workflow_start_delay) > 0:
        raise InvalidArgumentError("CronSchedule and WorkflowStartDelay may not be used together.")
    runs.validate_cron(request.cron_schedule)
    priorities.validate(request.priority)


@dataclass(frozen=True)
class Existing:
    """What the ID policies decided about the run that holds the workflow ID."""

    use_run_id: str = ""
    """Answer with this run instead of starting one."""
    terminate_run_id: str = ""
    """Start a new run, terminating this running one in the same commit."""


def check_existing(request: StartWorkflowExecutionRequest, current: CurrentExecution | None) -> Existing:
    """Apply the ID conflict and reuse policies to the run holding the ID; raise if refused."""
    if current is None:
        return Existing()
    if request.request_id and request.request_id == current.start_request_id:
        return Existing(use_run_id=current.run_id)
    if current.status == _RUNNING:
        policy = request.workflow_id_conflict_policy
        if policy == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
            return Existing(use_run_id=current.run_id)
        if (
            policy == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
            or request.workflow_id_reuse_policy
            == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING
        ):
            return Existing(terminate_run_id=current.run_id)
        raise WorkflowAlreadyStartedError(
            f"Workflow execution is already running. WorkflowId: {request.workflow_id}, "
            f"RunId: {current.run_id}.",
            current.start_request_id,
            current.run_id,
        )
    reuse = request.workflow_id_reuse_policy
    if reuse == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
        raise WorkflowAlreadyStartedError(
            f"Workflow execution already finished. WorkflowId: {request.workflow_id}, "
            f"RunId: {current.run_id}. Workflow Id reuse policy: reject duplicate workflow Id.",
            current.start_request_id,
            current.run_id,
        )
    if (
        reuse == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
        and current.status == _SUCCEEDED
    ):
        raise WorkflowAlreadyStartedError(
            f"Workflow execution already finished successfully. WorkflowId: "
            f"{request.workflow_id}, RunId: {current.run_id}. Workflow Id reuse policy: allow "
            "duplicate workflow Id if last run failed.",
            current.start_request_id,
            current.run_id,
        )
    return Existing()


def new_state(
    namespace: NamespaceRecord, request: StartWorkflowExecutionRequest, run_id: str, now: float
) -> MutableState:
    task_timeout = ev.seconds(request.workflow_task_timeout) or workflow_tasks.DEFAULT_TIMEOUT
    execution_timeout = ev.seconds(request.workflow_execution_timeout)
    run_timeout = ev.seconds(request.workflow_run_timeout)
    if execution_timeout > 0:
        run_timeout = min(run_timeout, execution_timeout) if run_timeout > 0 else execution_timeout
    policy = retry_policy(request)
    return MutableState(
        retry_policy=policy,
        cron_schedule=request.cron_schedule,
        first_execution_run_id=run_id,
        execution_deadline=now + execution_timeout if execution_timeout else 0.0,
        namespace_id=namespace.id,
        namespace=namespace.name,
        workflow_id=request.workflow_id,
        run_id=run_id,
        workflow_type=request.workflow_type.name,
        task_queue=request.task_queue.name,
        start_time=now,
        start_request_id=request.request_id,
        workflow_task_timeout=min(task_timeout, workflow_tasks.MAX_TIMEOUT, run_timeout or math.inf),
        run_timeout=run_timeout,
        execution_timeout=execution_timeout,
        priority=priorities.from_proto(request),
    )


def retry_policy(request: StartWorkflowExecutionRequest) -> RetryPolicy | None:
    """The workflow's retry policy with Temporal's defaults, if the request gave one."""
    return retry.from_proto(request.retry_policy) if request.HasField("retry_policy") else None


def first_task_backoff(request: StartWorkflowExecutionRequest, now: float) -> float:
    """How long the first workflow task waits: the start delay, or until the cron time."""
    if request.cron_schedule:
        return runs.next_cron_delay(request.cron_schedule, now)
    return ev.seconds(request.workflow_start_delay)


def _record_parent(s: MutableState, attrs: WorkflowExecutionStartedEventAttributes) -> None:
    """A child's parent and root, as its started event names them."""
    if s.parent is not None:
        attrs.parent_workflow_namespace = s.parent.namespace
        attrs.parent_workflow_namespace_id = s.parent.namespace_id
        attrs.parent_workflow_execution.workflow_id = s.parent.workflow_id
        attrs.parent_workflow_execution.run_id = s.parent.run_id
        attrs.parent_initiated_event_id = s.parent.initiated_event_id
        attrs.root_workflow_execution.workflow_id, attrs.root_workflow_execution.run_id = s.root


def record_started(change: Change, request: StartWorkflowExecutionRequest, backoff: float) -> None:
    """Append WorkflowExecutionStarted with the attributes Temporal records."""
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    attrs = event.workflow_execution_started_event_attributes
    attrs.workflow_type.CopyFrom(request.workflow_type)
    attrs.task_queue.CopyFrom(ev.task_queue(s.task_queue))
    if request.HasField("input"):
        attrs.input.CopyFrom(request.input)
    if s.execution_timeout:
        attrs.workflow_execution_timeout.CopyFrom(ev.duration(s.execution_timeout))
    if s.run_timeout:
        attrs.workflow_run_timeout.CopyFrom(ev.duration(s.run_timeout))
    attrs.workflow_task_timeout.CopyFrom(ev.duration(s.workflow_task_timeout))
    attrs.original_execution_run_id = s.run_id
    attrs.identity = request.identity
    attrs.first_execution_run_id = s.run_id
    attrs.attempt = 1
    attrs.first_workflow_task_backoff.CopyFrom(ev.duration(backoff))
    if s.execution_deadline:
        attrs.workflow_execution_expiration_time.CopyFrom(ev.timestamp(s.execution_deadline))
    attrs.cron_schedule = request.cron_schedule
    if request.HasField("last_completion_result"):
        attrs.last_completion_result.CopyFrom(request.last_completion_result)
    if request.HasField("continued_failure"):
        attrs.continued_failure.CopyFrom(request.continued_failure)
    attrs.workflow_id = s.workflow_id
    _record_parent(s, attrs)
    if request.HasField("header"):
        attrs.header.CopyFrom(request.header)
    if request.HasField("memo"):
        attrs.memo.CopyFrom(request.memo)
    if request.HasField("search_attributes"):
        attrs.search_attributes.CopyFrom(request.search_attributes)
    ev.drop_nil_values(attrs)
    if s.retry_policy is not None:
        retry.to_proto(s.retry_policy, attrs.retry_policy)
    if request.HasField("priority"):  # Temporal records it only when the request has one
        attrs.priority.CopyFrom(request.priority)
    if request.HasField("user_metadata"):
        event.user_metadata.CopyFrom(request.user_metadata)
    _record_callbacks(change, event, request)
    versioning.record_start(s, request, attrs, change.routing)
    s.execution_time = s.start_time + backoff
    visibility_fields.upsert_search_attributes(s, request.search_attributes)
    visibility_fields.upsert_memo(s, request.memo)


def _record_callbacks(change: Change, event: HistoryEvent, request: StartWorkflowExecutionRequest) -> None:
    """The completion callbacks a Nexus handler attached, called when the run closes, and the
    links back to what started it: on the callbacks when there are any (the real server then
    records none on the event itself)."""
    event.workflow_execution_started_event_attributes.completion_callbacks.extend(
        request.completion_callbacks
    )
    if not request.completion_callbacks:
        event.links.extend(request.links)
    change.state.completion_callbacks = [
        encode_blob(c.SerializeToString()) for c in request.completion_callbacks
    ]


def wants_attaching(request: StartWorkflowExecutionRequest) -> bool:
    """Whether a start that found its workflow running attaches something to that run."""
    options = request.on_conflict_options
    return (options.attach_completion_callbacks and bool(request.completion_callbacks)) or (
        options.attach_request_id or (options.attach_links and bool(request.links))
    )


def attach_to_existing(change: Change, request: StartWorkflowExecutionRequest) -> None:
    """Record what a start that used the running run attaches to it, as the real server does:
    its request ID, its completion callbacks (called when the run closes) and its links."""
    options = request.on_conflict_options
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED)
    attrs = event.workflow_execution_options_updated_event_attributes
    attrs.identity = request.identity
    if options.attach_request_id:
        attrs.attached_request_id = request.request_id
    if options.attach_completion_callbacks:
        attrs.attached_completion_callbacks.extend(request.completion_callbacks)
        change.state.completion_callbacks = change.state.completion_callbacks + [
            encode_blob(c.SerializeToString()) for c in request.completion_callbacks
        ]
    if options.attach_links:
        event.links.extend(request.links)
    event.worker_may_ignore = True


def current_record(state: MutableState) -> CurrentExecution:
    return CurrentExecution(state.run_id, state.status, state.start_request_id)
