"""What DescribeWorkflowExecution shows of Nexus: the run's pending operations and the
completion callbacks it will call when it closes."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Callback
from temporalio.api.enums.v1 import CallbackState, PendingNexusOperationState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import CallbackInfo, PendingNexusOperationInfo

from cadenza.history.machine import events as ev
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import MutableState, NexusOperation


def pending_operation(
    operation: NexusOperation, history: Sequence[HistoryEvent]
) -> PendingNexusOperationInfo:
    scheduled = history[operation.scheduled_event_id - 1]
    info = PendingNexusOperationInfo(
        endpoint=operation.endpoint,
        service=operation.service,
        operation=operation.operation,
        operation_id=operation.operation_token,
        operation_token=operation.operation_token,
        scheduled_event_id=operation.scheduled_event_id,
        attempt=operation.attempt,
        state=(
            PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_STARTED
            if operation.operation_token
            else PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_SCHEDULED
        ),
    )
    info.scheduled_time.CopyFrom(scheduled.event_time)
    if operation.schedule_to_close:
        info.schedule_to_close_timeout.CopyFrom(ev.duration(operation.schedule_to_close))
    if operation.cancel_requested_event_id:
        requested = (
            history[operation.cancel_requested_event_id - 1]
            if operation.cancel_requested_event_id <= len(history)
            else None
        )
        if requested is not None:
            info.cancellation_info.requested_time.CopyFrom(requested.event_time)
        info.cancellation_info.attempt = max(1, operation.cancel_attempt)
    return info


def callbacks(state: MutableState) -> list[CallbackInfo]:
    """Each completion callback: waiting while the run runs, delivered once it has closed."""
    found = []
    for encoded in state.completion_callbacks:
        info = CallbackInfo(callback=Callback.FromString(decode_blob(encoded)))
        info.trigger.workflow_closed.SetInParent()
        info.registration_time.CopyFrom(ev.timestamp(state.start_time))
        if state.running:
            info.state = CallbackState.CALLBACK_STATE_STANDBY
        else:
            info.state = CallbackState.CALLBACK_STATE_SUCCEEDED
            info.attempt = 1
            info.last_attempt_complete_time.CopyFrom(ev.timestamp(state.close_time))
        found.append(info)
    return found
