"""The Nexus requests Cadenza sends to handler workers, and the callback token they carry back.

A start request names the caller's ``temporal://system`` callback, as the real server's does:
the handler attaches it to the workflow it starts, and when that workflow closes Cadenza
delivers the outcome to the caller itself (no HTTP round trip, both ends being this server).
The token in the callback's header says which caller operation to complete.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.nexus.v1 import Request

from cadenza.history.machine import events as ev
from cadenza.history.machine.state import MutableState, NexusOperation
from cadenza.nexus import links

SYSTEM_CALLBACK_URL = "temporal://system"
CALLBACK_TOKEN_HEADER = "temporal-callback-token"
OPERATION_TOKEN_HEADER = "nexus-operation-token"
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class CallbackToken:
    """Which caller operation a completion callback completes."""

    namespace_id: str
    workflow_id: str
    run_id: str
    scheduled_event_id: int
    request_id: str

    def encode(self) -> str:
        data = base64.b64encode(json.dumps(asdict(self), separators=(",", ":")).encode()).decode()
        return json.dumps({"v": _TOKEN_VERSION, "d": data}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> CallbackToken | None:
        """The token, or None if ``text`` is not one Cadenza wrote."""
        try:
            outer = json.loads(text)
            if not isinstance(outer, dict) or outer.get("v") != _TOKEN_VERSION:
                return None
            return cls(**json.loads(base64.b64decode(outer["d"])))
        except (ValueError, TypeError, KeyError):
            return None


def _timeout_header(seconds: float) -> str:
    return f"{seconds:.3f}s"


def start_request(
    state: MutableState, operation: NexusOperation, scheduled: HistoryEvent, timeout: float
) -> Request:
    """The start request for ``operation``, as the real server builds it from its Scheduled event."""
    attrs = scheduled.nexus_operation_scheduled_event_attributes
    back = links.event_url(
        state.namespace,
        state.workflow_id,
        state.run_id,
        scheduled.event_id,
        EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
    )
    request = Request(endpoint=operation.endpoint)
    request.header.update(dict(attrs.nexus_header))
    request.header["request-timeout"] = request.header["Request-Timeout"] = _timeout_header(timeout)
    if operation.schedule_to_close:
        left = scheduled.event_time.ToSeconds() + operation.schedule_to_close - time.time()
        request.header["operation-timeout"] = f"{max(0, int(left * 1000))}ms"
    request.header["nexus-request-id"] = operation.request_id
    request.header["nexus-link"] = f'<{back}>; type="{links.WORKFLOW_EVENT_TYPE}"'
    request.scheduled_time.CopyFrom(ev.timestamp(time.time()))
    request.capabilities.temporal_failure_responses = True
    start = request.start_operation
    start.service, start.operation, start.request_id = (
        operation.service,
        operation.operation,
        operation.request_id,
    )
    start.callback = SYSTEM_CALLBACK_URL
    token = CallbackToken(
        state.namespace_id,
        state.workflow_id,
        state.run_id,
        operation.scheduled_event_id,
        operation.request_id,
    )
    start.callback_header[CALLBACK_TOKEN_HEADER] = token.encode()
    if attrs.HasField("input"):
        start.payload.CopyFrom(attrs.input)
    start.links.add(url=back, type=links.WORKFLOW_EVENT_TYPE)
    return request


def cancel_request(operation: NexusOperation, scheduled: HistoryEvent, timeout: float) -> Request:
    """The cancel request for a started ``operation``, with the headers its caller gave it."""
    request = Request(endpoint=operation.endpoint)
    request.header.update(dict(scheduled.nexus_operation_scheduled_event_attributes.nexus_header))
    request.header["request-timeout"] = request.header["Request-Timeout"] = _timeout_header(timeout)
    request.scheduled_time.CopyFrom(ev.timestamp(time.time()))
    request.capabilities.temporal_failure_responses = True
    cancel = request.cancel_operation
    cancel.service, cancel.operation = operation.service, operation.operation
    cancel.operation_id = cancel.operation_token = operation.operation_token
    return request
