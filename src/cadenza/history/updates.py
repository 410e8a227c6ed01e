"""Workflow updates: requests delivered to the worker as protocol messages in a workflow task.

The worker answers in its task completion with Acceptance, Rejection and
Response messages. Accepted and completed updates are written to history
(and remembered in the mutable state, so a repeated update ID gets the same
answer); a request not yet accepted lives only in memory, like Temporal's
update registry, and is delivered again if a workflow task fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from google.protobuf import any_pb2
from temporalio.api.enums.v1 import (
    EventType,
    UpdateWorkflowExecutionLifecycleStage,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.protocol.v1 import Message
from temporalio.api.update.v1 import Acceptance, Outcome, Rejection, Request, Response

from cadenza.history.change import Change
from cadenza.history.state import MutableState, UpdateRecord, decode_blob, encode_blob

Stage = UpdateWorkflowExecutionLifecycleStage
ADMITTED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
ACCEPTED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
COMPLETED = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED


@dataclass
class Pending:
    """An update request waiting for the worker's acceptance or rejection."""

    request: Request
    rejection: Outcome | None = None


@dataclass
class Registry:
    """In-memory update requests of one run, and who waits on updates of that run."""

    pending: dict[str, Pending] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass(frozen=True)
class Status:
    stage: int
    outcome: Outcome | None = None
    abandoned: bool = False
    """Accepted, never completed, and failed only because its run closed."""


def status(state: MutableState, registry: Registry, update_id: str) -> Status | None:
    """Where the update is; one accepted but left unfinished by a closed run failed, as on Temporal.

    That failure is only reported, never recorded: the update stays not completed,
    so update-with-start does not attach to it.
    """
    record = state.updates.get(update_id)
    if record is not None:
        if record.outcome:
            return Status(COMPLETED, Outcome.FromString(decode_blob(record.outcome)))
        if not state.running:
            return Status(COMPLETED, _accepted_update_completed_workflow(), abandoned=True)
        return Status(ACCEPTED)
    pending = registry.pending.get(update_id)
    if pending is None:
        return None
    if pending.rejection is not None:
        return Status(COMPLETED, pending.rejection)
    return Status(ADMITTED)


def messages(state: MutableState, registry: Registry, scheduled_event_id: int) -> list[Message]:
    """Request messages for every update the worker has not yet answered."""
    out = []
    for update_id, pending in registry.pending.items():
        if pending.rejection is not None or update_id in state.updates:
            continue
        body = any_pb2.Any()
        body.Pack(pending.request)
        out.append(Message(id=f"{update_id}/request", protocol_instance_id=update_id,
                           event_id=scheduled_event_id, body=body))
    return out


def _accepted_update_completed_workflow() -> Outcome:
    failure = Failure(
        message="Workflow Update failed because the Workflow completed before the Update completed.",
        source="Server")
    failure.application_failure_info.type = "AcceptedUpdateCompletedWorkflow"
    failure.application_failure_info.non_retryable = True
    return Outcome(failure=failure)


def has_undelivered(state: MutableState, registry: Registry) -> bool:
    return any(p.rejection is None and uid not in state.updates
               for uid, p in registry.pending.items())


def apply(change: Change, registry: Registry, message: Message) -> None:
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
        change.state.updates[message.protocol_instance_id] = UpdateRecord(
            accepted_event_id=event.event_id)
        registry.pending.pop(message.protocol_instance_id, None)
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
            outcome=encode_blob(response.outcome.SerializeToString()))
    elif body.Is(Rejection.DESCRIPTOR):
        rejection = Rejection()
        body.Unpack(rejection)
        pending = registry.pending.get(message.protocol_instance_id)
        if pending is not None:
            pending.rejection = Outcome(failure=rejection.failure)
    change.state_changed = True
