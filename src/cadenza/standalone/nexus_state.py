"""One standalone Nexus operation's state and what happens to it, without I/O.

An operation's state is a ``DescribeNexusOperationExecutionResponse`` (what Describe answers:
its info, input and, once closed, its result or failure). It is stored in the standalone
activities' table under its own key space (``cadenza.standalone.nexus_operation_rows``), so the runs share their
conditional writes, their task and timer outbox and their listing SQL; each transition takes
a ``Step`` that collects the timers (outbox entries) it makes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from temporalio.api.common.v1 import Link, Payload
from temporalio.api.enums.v1 import (
    NexusOperationCancellationState,
    NexusOperationExecutionStatus,
    PendingNexusOperationState,
    TimeoutType,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import DescribeNexusOperationExecutionResponse

from cadenza.history.machine import events as ev
from cadenza.persistence.records import TimerRecord
from cadenza.standalone.machine import STANDALONE_EVENT_ID
from cadenza.standalone.stored import StoredRecord
from cadenza.timers.kinds import TimerKind

Operation = DescribeNexusOperationExecutionResponse


RUNNING = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_RUNNING
COMPLETED = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_COMPLETED
FAILED = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_FAILED
CANCELED = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_CANCELED
TERMINATED = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_TERMINATED
TIMED_OUT = NexusOperationExecutionStatus.NEXUS_OPERATION_EXECUTION_STATUS_TIMED_OUT
SCHEDULED = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_SCHEDULED
BACKING_OFF = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_BACKING_OFF
STARTED = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_STARTED

WORKFLOW_STATUS = {RUNNING: 1, COMPLETED: 2, FAILED: 3, CANCELED: 4, TERMINATED: 5, TIMED_OUT: 7}
"""A status as the list filters number it (Temporal's ExecutionStatus, shared with workflows)."""
TRANSITION_NAMES = {
    COMPLETED: "Succeeded",
    FAILED: "Failed",
    CANCELED: "Canceled",
    TERMINATED: "Terminated",
    TIMED_OUT: "TimedOut",
}
"""A closed status as Temporal's refusals of a transition name it."""
STATUS_NAMES = {
    RUNNING: "Running",
    COMPLETED: "Completed",
    FAILED: "Failed",
    CANCELED: "Canceled",
    TERMINATED: "Terminated",
    TIMED_OUT: "TimedOut",
}


def is_running(operation: Operation) -> bool:
    return operation.info.status == RUNNING


@dataclass
class Step:
    """One change in the making: its time and the timers it adds."""

    namespace_id: str
    now: float
    timers: list[TimerRecord] = field(default_factory=list)

    def timer(self, operation: Operation, kind: TimerKind, fire_at: float, attempt: int) -> None:
        info = operation.info
        self.timers.append(
            TimerRecord(
                str(uuid.uuid4()),
                fire_at,
                self.namespace_id,
                info.operation_id,
                info.run_id,
                kind,
                STANDALONE_EVENT_ID,
                attempt,
            )
        )


@dataclass
class Record(StoredRecord):
    """What is stored of an operation: as Describe shows it, with its open timers and the
    request that asked to cancel it."""

    operation: Operation
    namespace: str = ""
    endpoint_id: str = ""
    cancel_request_id: str = ""
    terminate_request_id: str = ""
    timer_ids: list[str] = field(default_factory=list)

    def track_timers(self, step: Step, fired: str) -> list[str]:
        """Note the step's new timers; when the operation closed, the ones to drop."""
        self.timer_ids = [t for t in self.timer_ids if t != fired] + [t.timer_id for t in step.timers]
        if is_running(self.operation):
            return []
        dropped, self.timer_ids = self.timer_ids, []
        step.timers.clear()
        return dropped


def begin(step: Step, operation: Operation) -> None:
    """A new operation: its start request goes out now; its deadline is set."""
    info = operation.info
    info.status, info.state, info.attempt = RUNNING, SCHEDULED, 1
    info.schedule_time.CopyFrom(ev.timestamp(step.now))
    step.timer(operation, TimerKind.STANDALONE_NEXUS_START, step.now, 1)
    to_close = ev.seconds(info.schedule_to_close_timeout)
    if to_close > 0:
        info.expiration_time.CopyFrom(ev.timestamp(step.now + to_close))
        step.timer(operation, TimerKind.STANDALONE_NEXUS_TIMEOUT, step.now + to_close, 0)


def started(step: Step, operation: Operation, token: str, links: list[Link]) -> None:
    info = operation.info
    info.state, info.operation_token = STARTED, token
    info.last_attempt_complete_time.CopyFrom(ev.timestamp(step.now))
    info.ClearField("last_attempt_failure")
    _add_links(operation, links)
    if operation.info.HasField("cancellation_info"):  # asked before the handler answered
        step.timer(operation, TimerKind.STANDALONE_NEXUS_CANCEL, step.now, 1)


def retry_later(step: Step, operation: Operation, failure: Failure | None, due: float) -> None:
    info = operation.info
    info.state = BACKING_OFF
    info.last_attempt_complete_time.CopyFrom(ev.timestamp(step.now))
    if failure is not None:
        info.last_attempt_failure.CopyFrom(failure)
    info.next_attempt_schedule_time.CopyFrom(ev.timestamp(due))
    info.attempt += 1
    step.timer(operation, TimerKind.STANDALONE_NEXUS_START, due, info.attempt)


def attempt_due(operation: Operation) -> None:
    operation.info.state = SCHEDULED
    operation.info.ClearField("next_attempt_schedule_time")


def completed(step: Step, operation: Operation, result: Payload | None, links: list[Link]) -> None:
    _add_links(operation, links)
    operation.result.CopyFrom(result or Payload())
    _close(step, operation, COMPLETED)


def failed(step: Step, operation: Operation, failure: Failure, status: int = FAILED) -> None:
    operation.failure.CopyFrom(failure)
    _close(step, operation, status)


def request_cancel(step: Step, record: Record, reason: str, request_id: str) -> None:
    info = record.operation.info
    record.cancel_request_id = request_id
    cancellation = info.cancellation_info
    cancellation.requested_time.CopyFrom(ev.timestamp(step.now))
    cancellation.state = NexusOperationCancellationState.NEXUS_OPERATION_CANCELLATION_STATE_SCHEDULED
    cancellation.reason = reason
    if info.state == STARTED:
        step.timer(record.operation, TimerKind.STANDALONE_NEXUS_CANCEL, step.now, 1)


def cancel_answered(operation: Operation, failure: Failure | None) -> None:
    cancellation = operation.info.cancellation_info
    cancellation.attempt += 1
    if failure is None:
        cancellation.state = NexusOperationCancellationState.NEXUS_OPERATION_CANCELLATION_STATE_SUCCEEDED
    else:
        cancellation.state = NexusOperationCancellationState.NEXUS_OPERATION_CANCELLATION_STATE_FAILED
        cancellation.last_attempt_failure.CopyFrom(failure)


def terminate(step: Step, operation: Operation, reason: str) -> None:
    failure = Failure(message=reason or "operation terminated")
    failure.terminated_failure_info.SetInParent()
    failed(step, operation, failure, TERMINATED)


def time_out(step: Step, operation: Operation) -> None:
    failure = Failure(message="operation timed out")
    failure.timeout_failure_info.timeout_type = TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
    failed(step, operation, failure, TIMED_OUT)


def _close(step: Step, operation: Operation, status: int) -> None:
    info = operation.info
    info.status = status  # type: ignore[assignment]
    info.state = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_UNSPECIFIED
    info.close_time.CopyFrom(ev.timestamp(step.now))
    info.execution_duration.CopyFrom(ev.duration(max(0.0, step.now - info.schedule_time.ToSeconds())))
    info.ClearField("next_attempt_schedule_time")


def _add_links(operation: Operation, links: list[Link]) -> None:
    for link in links:
        if link not in operation.info.links:
            operation.info.links.append(link)
