"""Signals: messages delivered into a run's history, deduplicated by request ID."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.common.v1 import Header, Link, Payloads
from temporalio.api.enums.v1 import EventType

from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState

MAX_REMEMBERED_REQUESTS = 100
"""How many recent signal request IDs a run remembers to drop client retries."""


@dataclass(frozen=True)
class Signal:
    name: str
    input: Payloads | None
    identity: str
    header: Header | None = None
    request_id: str = ""
    links: tuple[Link, ...] = ()
    """Links to what sent it (a Nexus operation's caller), recorded on its event."""


def seen(state: MutableState, request_id: str) -> bool:
    return bool(request_id) and request_id in state.signal_request_ids


def record(change: Change, signal: Signal) -> None:
    """Append WorkflowExecutionSignaled (buffered while a workflow task runs)."""
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    attrs = event.workflow_execution_signaled_event_attributes
    attrs.signal_name = signal.name
    if signal.input is not None:
        attrs.input.CopyFrom(signal.input)
    attrs.identity = signal.identity
    if signal.header is not None:
        attrs.header.CopyFrom(signal.header)
    attrs.request_id = signal.request_id
    event.links.extend(signal.links)
    if signal.request_id:
        ids = change.state.signal_request_ids
        ids.append(signal.request_id)
        del ids[:-MAX_REMEMBERED_REQUESTS]
    change.state_changed = True
