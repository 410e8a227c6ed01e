"""Workflow updates: requests delivered to the worker as protocol messages in a workflow task.

The worker answers in its task completion with Acceptance, Rejection and
Response messages. Accepted and completed updates are written to history. Every
update the run knows is also kept in its mutable state, from admission on: the
request until the worker answers it, then its outcome. Being part of the state,
an admitted update reaches a worker through whichever replica hands out the next
workflow task, survives a restart, is delivered again if a workflow task fails,
and a repeated update ID gets the first request's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from temporalio.api.enums.v1 import (
    EventType,
    UpdateWorkflowExecutionLifecycleStage,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.protocol.v1 import Message
from temporalio.api.update.v1 import Acceptance, Outcome, Rejection, Request, Response

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.change import Change
from cadenza.history.machine.encoded import decode_blob, encode_blob
from cadenza.history.machine.state import MutableState, UpdateRecord
from cadenza.validation import check_failure

Stage = UpdateWorkflowExecutionLifecycleStage
ADMITTED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
ACCEPTED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
COMPLETED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED


@dataclass(frozen=True)
class Status:
    stage: int
    outcome: Outcome | None = None
    abandoned: bool = False
    """Accepted, never completed, and failed only because its run closed."""


def status(state: MutableState, update_id: str) -> Status | None:
    """Where the update is; one accepted but left unfinished by a closed run failed, as on Temporal.

    That failure is only reported, never recorded: the update stays not completed,
    so update-with-start does not attach to it.
    """
    record = state.updates.get(update_id)
    if record is None:
        return None
    if record.outcome:
        return Status(COMPLETED, Outcome.FromString(decode_blob(record.outcome)))
    if not record.accepted_event_id:
        return Status(ADMITTED)
    if not state.running:
        return Status(COMPLETED, _accepted_update_completed_workflow(), abandoned=True)
    return Status(ACCEPTED)


def admit(change: Change, request: Request) -> None:
    """Remember a new update until the worker answers it."""
    change.state.updates[request.meta.update_id] = UpdateRecord(
        request=encode_blob(request.SerializeToString())
    )
    change.state_changed = True


def messages(state: MutableState, scheduled_event_id: int) -> list[Message]:
    """Request messages for every update the worker has not yet answered."""
    out = []
    for update_id, record in state.updates.items():
        if not record.request:
            continue
        body = any_pb2.Any()
        body.Pack(Request.FromString(decode_blob(record.request)))
        out.append(
            Message(
                id=f"{update_id}/request",
                protocol_instance_id=update_id,
                event_id=scheduled_event_id,
                body=body,
            )
        )
    return out


def _accepted_update_completed_workflow() -> Outcome:
    failure = Failure(
        message="Workflow Update failed because the Workflow completed before the Update completed.",
        source="Server",
    )
    failure.application_failure_info.type = "AcceptedUpdateCompletedWorkflow"
    failure.application_failure_info.non_retryable = True
    return Outcome(failure=failure)


def has_undelivered(state: MutableState) -> bool:
    return any(record.request for record in state.updates.values())


_BODIES = (Acceptance, Response, Rejection)


def check_body(message: Message) -> None:
    """Refuse a worker's answer whose body does not decode, before anything is applied."""
    for kind in _BODIES:
        if message.body.Is(kind.DESCRIPTOR):
            body = kind()
            try:
                message.body.Unpack(body)
            except DecodeError as error:
                raise InvalidArgumentError(
                    f"Message {message.id} has a body that does not decode as {kind.DESCRIPTOR.full_name}."
                ) from error
            failure = body.outcome.failure if isinstance(body, Response) else getattr(body, "failure", None)
            if failure is not None:
                check_failure(failure)


def apply(change: Change, message: Message) -> None:
    """Record one of the worker's answers: Acceptance, Response or Rejection."""
    body = message.body
    if body.Is(Acceptance.DESCRIPTOR):
        acceptance = Acceptance()
        body.Unpack(acceptance)
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        attrs = event.workflow_execution_update_accepted_event_attributes
        attrs.protocol_instance_id = message.protocol_instance_id
        attrs.accepted_request_message_id = acceptance.accepted_request_message_id
        attrs.accepted_request_sequencing_event_id = acceptance.accepted_request_sequencing_event_id
        attrs.accepted_request.CopyFrom(acceptance.accepted_request)
        change.state.updates[message.protocol_instance_id] = UpdateRecord(accepted_event_id=event.event_id)
    elif body.Is(Response.DESCRIPTOR):
        response = Response()
        body.Unpack(response)
        record = change.state.updates.get(response.meta.update_id)
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
        done = event.workflow_execution_update_completed_event_attributes
        done.meta.CopyFrom(response.meta)
        done.accepted_event_id = record.accepted_event_id if record else 0
        done.outcome.CopyFrom(response.outcome)
        change.state.updates[response.meta.update_id] = UpdateRecord(
            accepted_event_id=done.accepted_event_id,
            outcome=encode_blob(response.outcome.SerializeToString()),
        )
    elif body.Is(Rejection.DESCRIPTOR):
        rejection = Rejection()
        body.Unpack(rejection)
        record = change.state.updates.get(message.protocol_instance_id)
        if record is not None and record.request:
            outcome = Outcome(failure=rejection.failure)
            record.request = ""
            record.outcome = encode_blob(outcome.SerializeToString())
            _forget_old_rejections(change.state)
    change.state_changed = True


KEPT_REJECTIONS = 100
"""Rejected updates remembered per run, for callers still waiting on them; never in history."""


def _forget_old_rejections(state: MutableState) -> None:
    rejected = [uid for uid, r in state.updates.items() if r.outcome and not r.accepted_event_id]
    for update_id in rejected[:-KEPT_REJECTIONS]:
        del state.updates[update_id]
