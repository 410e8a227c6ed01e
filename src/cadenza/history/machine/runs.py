"""How a run ends and whether another run follows it: workflow retries and cron.

A follow-on run is created in the same commit that closes the old one, so the
workflow ID is never left without a run to answer for it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import CroniterBadDateError, croniter
from temporalio.api.command.v1 import ContinueAsNewWorkflowExecutionCommandAttributes
from temporalio.api.common.v1 import Header, Memo, Payloads, SearchAttributes
from temporalio.api.enums.v1 import (
    ContinueAsNewInitiator,
    EventType,
    RetryState,
    TimeoutType,
    WorkflowExecutionStatus,
)
from temporalio.api.failure.v1 import Failure

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import retry, versioning, visibility_fields, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.closing import close_execution
from cadenza.history.machine.state import MutableState, RetryPolicy
from cadenza.history.machine.workflow_ops import end_running_workflow_task
from cadenza.persistence.records import CurrentExecution
from cadenza.protoutil import present
from cadenza.timers.kinds import TimerKind

Status = WorkflowExecutionStatus


def validate_cron(expression: str) -> None:
    """Refuse, as Temporal does at start, a cron string that does not parse or never fires.

    Temporal's cron takes five fields or an ``@`` descriptor; a string whose
    fields can never all match (the 31st of February) is refused too, instead of
    failing later when the next run is due.
    """
    if not expression:
        return
    descriptor = expression.strip().startswith("@")
    if not (descriptor or len(expression.split()) == 5) or not croniter.is_valid(expression):
        raise InvalidArgumentError("invalid CronSchedule.")
    try:
        croniter(expression, datetime.now(UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise InvalidArgumentError(
            "invalid CronSchedule, no time can be found to satisfy the schedule"
        ) from None


def next_cron_delay(expression: str, now: float) -> float:
    """Seconds from ``now`` to the schedule's next time (cron runs in UTC, as in Temporal)."""
    start = datetime.fromtimestamp(now, UTC)
    following: datetime = croniter(expression, start).get_next(datetime)
    return float(math.ceil(max(0.0, following.timestamp() - now)))  # whole seconds, as Temporal


def begin(change: Change, backoff: float, *, await_slot: bool = False) -> None:
    """Start the run's clocks and its first workflow task, after ``backoff`` seconds; with
    ``await_slot`` the task then waits for the run's concurrency slots too (its timer, due when
    the backoff ends, keeps the wait stored)."""
    s = change.state
    if s.run_timeout > 0:
        s.run_timer_id = change.add_timer(
            TimerKind.WORKFLOW_RUN_TIMEOUT, s.start_time + backoff + s.run_timeout, 1, 0
        )
    if await_slot:
        s.awaits_slot = True
        s.backoff_timer_id = change.add_timer(TimerKind.AWAIT_SLOT, s.start_time + backoff, 1, 0)
    elif backoff > 0:
        s.backoff_timer_id = change.add_timer(TimerKind.WORKFLOW_BACKOFF, s.start_time + backoff, 1, 0)
    else:
        workflow_tasks.schedule(change)


def backoff_elapsed(change: Change) -> None:
    """The first workflow task's delay ended (or its run got its concurrency slots)."""
    change.state.backoff_timer_id = ""
    change.state.awaits_slot = False
    change.state_changed = True
    workflow_tasks.ensure_scheduled(change)


def complete(change: Change, result: Payloads | None, completed_id: int) -> None:
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    attrs = event.workflow_execution_completed_event_attributes
    if result is not None:
        attrs.result.CopyFrom(result)
    attrs.workflow_task_completed_event_id = completed_id
    if change.state.cron_schedule:
        attrs.new_execution_run_id = _follow_with_cron(change, result=result)
    close_execution(change, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED)


def fail(change: Change, failure: Failure, completed_id: int) -> None:
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
    attrs = event.workflow_execution_failed_event_attributes
    attrs.failure.CopyFrom(failure)
    attrs.workflow_task_completed_event_id = completed_id
    attrs.retry_state, attrs.new_execution_run_id = _retry_or_cron(change, failure)  # type: ignore[assignment]
    close_execution(change, Status.WORKFLOW_EXECUTION_STATUS_FAILED)


def time_out(change: Change) -> None:
    """The run ran out of time; a retry policy or cron schedule may start another."""
    change.state.run_timer_id = ""
    end_running_workflow_task(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)
    attrs = event.workflow_execution_timed_out_event_attributes
    failure = Failure(message="workflow timed out")
    failure.timeout_failure_info.timeout_type = TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    attrs.retry_state, attrs.new_execution_run_id = _retry_or_cron(change, failure)  # type: ignore[assignment]
    deadline = change.state.execution_deadline
    if deadline and change.now >= deadline - 0.001 and not attrs.new_execution_run_id:
        attrs.retry_state = RetryState.RETRY_STATE_TIMEOUT
    close_execution(change, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)


def _retry_or_cron(change: Change, failure: Failure) -> tuple[int, str]:
    s = change.state
    if s.retry_policy is not None:
        decision = retry.decide(s.retry_policy, s.attempt, failure, change.now, s.execution_deadline)
        if decision.delay is not None:
            run_id = _successor(
                change,
                ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
                decision.delay,
                s.attempt + 1,
                failure=failure,
            )
            return RetryState.RETRY_STATE_IN_PROGRESS, run_id
        state = decision.retry_state
    else:
        state = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    if s.cron_schedule:
        return state, _follow_with_cron(change, failure=failure)
    return state, ""


def _follow_with_cron(
    change: Change, *, result: Payloads | None = None, failure: Failure | None = None
) -> str:
    delay = next_cron_delay(change.state.cron_schedule, change.now)
    return _successor(
        change,
        ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE,
        delay,
        1,
        failure=failure,
        result=result,
    )


def continue_as_new(
    change: Change, command: ContinueAsNewWorkflowExecutionCommandAttributes, completed_id: int
) -> None:
    """The workflow asked to start afresh: close this run and start the next with new input."""
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
    attrs = event.workflow_execution_continued_as_new_event_attributes
    attrs.workflow_type.name = command.workflow_type.name or s.workflow_type
    attrs.task_queue.CopyFrom(ev.task_queue(command.task_queue.name or s.task_queue))
    if command.HasField("input"):
        attrs.input.CopyFrom(command.input)
    run_timeout = ev.seconds(command.workflow_run_timeout) or s.run_timeout
    task_timeout = ev.seconds(command.workflow_task_timeout) or s.workflow_task_timeout
    if run_timeout:
        attrs.workflow_run_timeout.CopyFrom(ev.duration(run_timeout))
    attrs.workflow_task_timeout.CopyFrom(ev.duration(task_timeout))
    attrs.workflow_task_completed_event_id = completed_id
    backoff = ev.seconds(command.backoff_start_interval)
    attrs.backoff_start_interval.CopyFrom(ev.duration(backoff))
    attrs.initiator = ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
    for name in ("header", "memo", "search_attributes"):
        if command.HasField(name):
            getattr(attrs, name).CopyFrom(getattr(command, name))
    ev.drop_nil_values(attrs)
    overrides = _Overrides(
        workflow_type=attrs.workflow_type.name,
        task_queue=attrs.task_queue.name,
        input=present(command, "input"),
        run_timeout=run_timeout,
        task_timeout=task_timeout,
        header=present(command, "header"),
        memo=present(command, "memo"),
        search_attributes=present(command, "search_attributes"),
        retry=(
            retry.from_proto(command.retry_policy) if command.HasField("retry_policy") else s.retry_policy
        ),
        initial_versioning=command.initial_versioning_behavior,
    )
    attrs.new_execution_run_id = _successor(
        change, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW, backoff, 1, overrides=overrides
    )
    close_execution(change, Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW)


@dataclass(frozen=True)
class _Overrides:
    """What continue-as-new may change for the next run; None keeps the old value."""

    workflow_type: str
    task_queue: str
    input: Payloads | None
    run_timeout: float
    task_timeout: float
    header: Header | None
    memo: Memo | None
    search_attributes: SearchAttributes | None
    retry: RetryPolicy | None
    initial_versioning: int = 0
    """The ``ContinueAsNewVersioningBehavior`` the workflow asked for the next run."""


def _successor(
    change: Change,
    initiator: int,
    backoff: float,
    attempt: int,
    *,
    failure: Failure | None = None,
    result: Payloads | None = None,
    overrides: _Overrides | None = None,
) -> str:
    """Create the next run of this workflow ID, to be committed with ``change``."""
    old = change.state
    assert change.start_event is not None, "the start event is needed to start a new run"
    src = change.start_event.workflow_execution_started_event_attributes
    run_id = str(uuid.uuid4())
    run_timeout = overrides.run_timeout if overrides else old.run_timeout
    if old.execution_deadline:
        remaining = old.execution_deadline - change.now
        run_timeout = min(run_timeout, remaining) if run_timeout else remaining
    state = MutableState(
        namespace_id=old.namespace_id,
        namespace=old.namespace,
        workflow_id=old.workflow_id,
        run_id=run_id,
        workflow_type=overrides.workflow_type if overrides else old.workflow_type,
        task_queue=overrides.task_queue if overrides else old.task_queue,
        start_time=change.now,
        start_request_id=str(uuid.uuid4()),
        workflow_task_timeout=overrides.task_timeout if overrides else old.workflow_task_timeout,
        run_timeout=run_timeout,
        execution_timeout=old.execution_timeout,
        attempt=attempt,
        retry_policy=overrides.retry if overrides else old.retry_policy,
        cron_schedule=old.cron_schedule,
        first_execution_run_id=old.first_execution_run_id,
        execution_deadline=old.execution_deadline,
        parent=old.parent,
        priority=old.priority,
        completion_callbacks=list(old.completion_callbacks),  # the last run of the chain calls them
    )
    follow = Change(state, change.now, 0, change.sticky_alive, routing=change.routing)
    event = follow.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    attrs = event.workflow_execution_started_event_attributes
    attrs.CopyFrom(src)
    attrs.continued_execution_run_id = old.run_id
    attrs.initiator = initiator  # type: ignore[assignment]
    attrs.ClearField("continued_failure")
    attrs.ClearField("last_completion_result")
    if failure is not None:
        attrs.continued_failure.CopyFrom(failure)
    if result is not None:
        attrs.last_completion_result.CopyFrom(result)
    elif src.HasField("last_completion_result"):
        attrs.last_completion_result.CopyFrom(src.last_completion_result)
    attrs.original_execution_run_id = run_id
    attrs.attempt = attempt
    attrs.first_workflow_task_backoff.CopyFrom(ev.duration(backoff))
    attrs.identity = ""
    if run_timeout:
        attrs.workflow_run_timeout.CopyFrom(ev.duration(run_timeout))
    if overrides is not None:
        _apply_overrides(attrs, overrides, state)
        ev.drop_nil_values(attrs)
    if overrides is not None:
        versioning.continue_onto(old, state, attrs, overrides.initial_versioning)
    state.execution_time = change.now + backoff
    visibility_fields.upsert_search_attributes(state, attrs.search_attributes)
    visibility_fields.upsert_memo(state, attrs.memo)
    # A run retried (or timed out) while it waited for its slots has none to hand on.
    begin(follow, backoff, await_slot=old.awaits_slot)
    follow.new_current = CurrentExecution(run_id, state.status, state.start_request_id)
    follow.replaced_run_id = old.run_id
    change.successor = follow
    return run_id


def _apply_overrides(attrs, overrides: _Overrides, state: MutableState) -> None:  # type: ignore[no-untyped-def]
    attrs.workflow_type.name = overrides.workflow_type
    attrs.task_queue.CopyFrom(ev.task_queue(overrides.task_queue))
    attrs.ClearField("input")
    if overrides.input is not None:
        attrs.input.CopyFrom(overrides.input)
    attrs.workflow_task_timeout.CopyFrom(ev.duration(state.workflow_task_timeout))
    for name in ("header", "memo", "search_attributes"):
        value = getattr(overrides, name)
        if value is not None:
            getattr(attrs, name).CopyFrom(value)
    attrs.ClearField("retry_policy")
    if overrides.retry is not None:
        retry.to_proto(overrides.retry, attrs.retry_policy)
