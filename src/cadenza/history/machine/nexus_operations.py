"""Nexus operations a run calls, as seen from the caller's history.

ScheduleNexusOperation records a *Scheduled* event with an outbox entry (a timer due at
once) that delivers the start request to the endpoint's handler; ``cadenza.nexus.invocations``
reports the handler's answer back as a second change to this run: *Completed* or *Failed* for
an answer given at once, *Started* for an operation that runs on (whose end arrives later
through its completion callback). The failure shapes and messages are the real server's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from temporalio.api.command.v1 import (
    RequestCancelNexusOperationCommandAttributes,
    ScheduleNexusOperationCommandAttributes,
)
from temporalio.api.common.v1 import Link, Payload
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.failure.v1 import Failure

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.history.machine import workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import NexusOperation
from cadenza.timers.kinds import TimerKind
from cadenza.validation import cap_durations, check_length

MAX_PENDING_OPERATIONS = 30
"""The real server's default limit on a run's pending Nexus operations
(``component.nexusoperations.limit.operation.concurrency``)."""
MAX_NAME_LENGTH = 1000
UNSUCCESSFUL = "nexus operation completed unsuccessfully"

_DURATIONS = (
    ("schedule_to_close_timeout", "ScheduleToCloseTimeout"),
    ("schedule_to_start_timeout", "ScheduleToStartTimeout"),
    ("start_to_close_timeout", "StartToCloseTimeout"),
)


def validate_schedule(
    attrs: ScheduleNexusOperationCommandAttributes, endpoints: dict[str, str], pending: int
) -> None:
    if not attrs.endpoint:
        raise InvalidArgumentError("endpoint name not set")
    if not attrs.service:
        raise InvalidArgumentError("service name not set")
    if not attrs.operation:
        raise InvalidArgumentError("operation name not set")
    check_length(attrs.service, "ScheduleNexusOperationCommandAttributes.Service exceeds length limit.")
    check_length(attrs.operation, "ScheduleNexusOperationCommandAttributes.Operation exceeds length limit.")
    cap_durations(attrs, _DURATIONS, "ScheduleNexusOperation")
    if attrs.endpoint not in endpoints:
        raise InvalidArgumentError(f"endpoint {attrs.endpoint!r} not found")
    if pending >= MAX_PENDING_OPERATIONS:
        raise InvalidArgumentError(
            f"workflow has reached the pending nexus operation limit of {MAX_PENDING_OPERATIONS}"
        )


def validate_cancel(attrs: RequestCancelNexusOperationCommandAttributes, cancelable: set[int]) -> None:
    if attrs.scheduled_event_id not in cancelable:
        raise InvalidArgumentError(
            f"requested cancelation for a non-existing or already completed operation with "
            f"scheduled event ID of {attrs.scheduled_event_id}"
        )


def schedule(
    change: Change, attrs: ScheduleNexusOperationCommandAttributes, endpoint_id: str, completed_id: int
) -> NexusOperation:
    s = change.state
    event = change.add_event(EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED)
    out = event.nexus_operation_scheduled_event_attributes
    out.endpoint, out.service, out.operation = attrs.endpoint, attrs.service, attrs.operation
    if attrs.HasField("input"):
        out.input.CopyFrom(attrs.input)
    timeout = ev.seconds(attrs.schedule_to_close_timeout)
    run_left = s.run_timeout - (change.now - s.start_time) if s.run_timeout else 0.0
    if run_left > 0 and (not timeout or timeout > run_left):
        timeout = s.run_timeout  # no operation outlives its caller's run, as on the real server
    if timeout:
        out.schedule_to_close_timeout.CopyFrom(ev.duration(timeout))
    for key, value in attrs.nexus_header.items():
        out.nexus_header[key] = value
    out.workflow_task_completed_event_id = completed_id
    out.request_id = str(uuid.uuid4())
    out.endpoint_id = endpoint_id
    operation = NexusOperation(
        event.event_id, attrs.endpoint, endpoint_id, attrs.service, attrs.operation, out.request_id, timeout
    )
    if timeout:
        operation.timer_id = change.add_timer(
            TimerKind.NEXUS_SCHEDULE_TO_CLOSE, change.now + timeout, event.event_id, 0
        )
    s.nexus_operations[event.event_id] = operation
    change.add_timer(TimerKind.NEXUS_START, change.now, event.event_id, operation.attempt)
    return operation


def request_cancel(change: Change, operation: NexusOperation, completed_id: int) -> None:
    event = change.add_event(EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED)
    out = event.nexus_operation_cancel_requested_event_attributes
    out.scheduled_event_id = operation.scheduled_event_id
    out.workflow_task_completed_event_id = completed_id
    operation.cancel_requested_event_id = event.event_id
    if operation.operation_token:
        operation.cancel_attempt = 1
        change.add_timer(TimerKind.NEXUS_CANCEL, change.now, operation.scheduled_event_id, 1)
    else:
        # Not started yet: the start request may still be on its way; its answer (or the
        # start itself, if it comes) is followed by the cancel request.
        operation.cancel_attempt = 0


def started(change: Change, operation: NexusOperation, token: str, links: list[Link]) -> None:
    event = change.add_or_buffer(EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)
    out = event.nexus_operation_started_event_attributes
    out.scheduled_event_id = operation.scheduled_event_id
    out.operation_id = token
    out.operation_token = token
    out.request_id = operation.request_id
    event.links.extend(links)
    operation.operation_token = token
    operation.started_event_id = event.event_id or -1  # -1: buffered, numbered later
    if operation.cancel_requested_event_id and not operation.cancel_attempt:
        operation.cancel_attempt = 1
        change.add_timer(TimerKind.NEXUS_CANCEL, change.now, operation.scheduled_event_id, 1)
    workflow_tasks.ensure_scheduled(change)


def completed(
    change: Change, operation: NexusOperation, result: Payload | None, links: Sequence[Link] = ()
) -> None:
    """The operation succeeded; ``links`` point at what its handler did (a signal it sent)."""
    event = change.add_or_buffer(EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)
    event.links.extend(links)
    out = event.nexus_operation_completed_event_attributes
    out.scheduled_event_id = operation.scheduled_event_id
    if result is not None:
        out.result.CopyFrom(result)
    out.request_id = operation.request_id
    _close(change, operation)


def failed(change: Change, operation: NexusOperation, cause: Failure) -> None:
    _unsuccessful(change, operation, EventType.EVENT_TYPE_NEXUS_OPERATION_FAILED, cause)


def canceled(change: Change, operation: NexusOperation, cause: Failure) -> None:
    _unsuccessful(change, operation, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCELED, cause)


def timed_out(change: Change, operation: NexusOperation) -> None:
    cause = Failure(message="operation timed out")
    cause.timeout_failure_info.timeout_type = TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
    _unsuccessful(change, operation, EventType.EVENT_TYPE_NEXUS_OPERATION_TIMED_OUT, cause)


def cancel_request_done(change: Change, operation: NexusOperation, failure: Failure | None) -> None:
    """The handler answered the cancel request: accepted, or refused with ``failure``."""
    kind = (
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED
        if failure is None
        else EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_FAILED
    )
    event = change.add_or_buffer(kind)
    out = ev.attributes(event)
    out.requested_event_id = operation.cancel_requested_event_id
    out.scheduled_event_id = operation.scheduled_event_id
    if failure is not None:
        out.failure.CopyFrom(failure)
    else:
        event.worker_may_ignore = True
    operation.cancel_attempt = 0
    workflow_tasks.ensure_scheduled(change)


def _unsuccessful(change: Change, operation: NexusOperation, kind: int, cause: Failure) -> None:
    event = change.add_or_buffer(kind)
    out = ev.attributes(event)
    out.scheduled_event_id = operation.scheduled_event_id
    out.failure.CopyFrom(operation_failure(operation, cause))
    out.request_id = operation.request_id
    _close(change, operation)


def operation_failure(operation: NexusOperation, cause: Failure) -> Failure:
    """The failure an unsuccessful operation closes with, its handler's failure as the cause."""
    failure = Failure(message=UNSUCCESSFUL)
    failure.cause.CopyFrom(cause)
    info = failure.nexus_operation_execution_failure_info
    info.scheduled_event_id = operation.scheduled_event_id
    info.endpoint, info.service, info.operation = operation.endpoint, operation.service, operation.operation
    info.operation_id = info.operation_token = operation.operation_token
    return failure


def _close(change: Change, operation: NexusOperation) -> None:
    change.remove_timer(operation.timer_id)
    del change.state.nexus_operations[operation.scheduled_event_id]
    workflow_tasks.ensure_scheduled(change)
