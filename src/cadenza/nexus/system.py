"""The system Nexus endpoint, ``__temporal_system``: WorkflowService operations a workflow calls
through Nexus, served by the server itself rather than a handler worker.

The SDK's ``workflow.signal_with_start_workflow`` runs as the operation
``SignalWithStartWorkflowExecution`` of service ``temporal.api.workflowservice.v1.WorkflowService``
on this endpoint; its input and output are the WorkflowService request and response, as
``binary/protobuf`` payloads.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import (
    SignalWithStartWorkflowExecutionRequest,
    SignalWithStartWorkflowExecutionResponse,
    StartWorkflowExecutionRequest,
)

from cadenza.concurrency.starts import NOT_YET, StartSlots
from cadenza.exceptions import CadenzaError
from cadenza.history.machine.signals import Signal
from cadenza.history.machine.state import MutableState, NexusOperation
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus.answers import Answer, Verdict
from cadenza.protoutil import copy_common_fields, present

ENDPOINT = "__temporal_system"
SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
SIGNAL_WITH_START = "SignalWithStartWorkflowExecution"
_SYSTEM_PAYLOAD = "__temporal_system_payload"
_WAITING = "a concurrency limit the workflow falls under is full: its start waits for a slot"


async def run(
    history: HistoryService,
    namespaces: NamespaceRegistry,
    caller: MutableState,
    operation: NexusOperation,
    payload: Payload,
    slots: StartSlots,
) -> Answer:
    """Serve one system operation for a workflow of ``caller``'s namespace; a request sent
    again (after a restart) carries the operation's request ID, so it acts once."""
    if (operation.service, operation.operation) != (SERVICE, SIGNAL_WITH_START):
        return _refused(
            f"system operation {operation.service}/{operation.operation} is not served", "NOT_FOUND"
        )
    try:
        request = SignalWithStartWorkflowExecutionRequest.FromString(payload.data)
    except DecodeError:
        return _refused("the input is not a SignalWithStartWorkflowExecutionRequest", "BAD_REQUEST")
    if request.namespace and request.namespace != caller.namespace:
        return _refused("a system operation acts only in its caller's namespace", "BAD_REQUEST")
    request.namespace = caller.namespace
    request.request_id = request.request_id or operation.request_id
    start = StartWorkflowExecutionRequest()
    copy_common_fields(request, start)
    signal = Signal(
        request.signal_name,
        present(request, "signal_input"),
        request.identity,
        present(request, "header"),
        request.request_id,
        tuple(request.links),
    )
    try:
        if not request.signal_name:
            return _refused("SignalName is not set on request.", "BAD_REQUEST")
        namespace = await namespaces.get(caller.namespace)
        # Under the concurrency limits as any start; while a ``queue`` limit is full nothing
        # starts, and the operation is tried again after a backoff, its outbox entry stored.
        result = await slots.start(
            namespace.id, start, lambda _await_slot: history.start_workflow(namespace, start, signal), NOT_YET
        )
    except CadenzaError as error:
        return _refused(error.message, "BAD_REQUEST")
    if result is None:
        return Answer(Verdict.RETRY, failure=_failure(_WAITING, "RESOURCE_EXHAUSTED"))
    response = SignalWithStartWorkflowExecutionResponse(run_id=result.run_id, started=result.started)
    answer = Payload(
        metadata={
            "encoding": b"binary/protobuf",
            "messageType": response.DESCRIPTOR.full_name.encode(),
            _SYSTEM_PAYLOAD: b"true",
        },
        data=response.SerializeToString(),
    )
    return Answer(Verdict.COMPLETED, result=answer)


def _refused(message: str, error_type: str) -> Answer:
    return Answer(Verdict.FAILED, failure=_failure(message, error_type))


def _failure(message: str, error_type: str) -> Failure:
    failure = Failure(message=message)
    failure.nexus_handler_failure_info.type = error_type
    return failure
