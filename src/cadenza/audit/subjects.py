"""What a request names: its namespace, workflow, run, schedule, request ID and identity.

Read by field name from any request message, so one reader serves every RPC:
``workflow_execution`` (signal, cancel, terminate...) or ``execution`` (describe), ``workflow_id`` (start,
signal-with-start), the first operation of a multi-operation, ``schedule_id``, an
update's ``request.meta`` (its ID stands as the request ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_FIELD_CHARS = 1000
"""The longest value kept from a request field; IDs are shorter, a client may send more."""


@dataclass(frozen=True)
class Subject:
    namespace: str = ""
    workflow_id: str = ""
    run_id: str = ""
    schedule_id: str = ""
    request_id: str = ""
    identity: str = ""


def subject_of(request: Any) -> Subject:
    """The names ``request`` carries; empty where it has no such field."""
    execution = _message(request, "workflow_execution") or _message(request, "execution")
    workflow_id = _text(request, "workflow_id") or _text(execution, "workflow_id")
    request_id = _text(request, "request_id")
    operations = getattr(request, "operations", None) if _has(request, "operations") else None
    if not workflow_id and operations:
        start = _message(operations[0], "start_workflow")
        workflow_id, request_id = _text(start, "workflow_id"), request_id or _text(start, "request_id")
    # An update carries its ID and the caller's identity in the request's ``meta``.
    meta = _message(_message(request, "request"), "meta")
    return Subject(
        namespace=_text(request, "namespace"),
        workflow_id=workflow_id,
        run_id=_text(execution, "run_id"),
        schedule_id=_text(request, "schedule_id"),
        request_id=request_id or _text(meta, "update_id"),
        identity=_text(request, "identity") or _text(meta, "identity"),
    )


def _has(message: Any, name: str) -> bool:
    descriptor = getattr(message, "DESCRIPTOR", None)
    if descriptor is None:  # a request of Cadenza's own (an audit listing), not a protobuf
        return hasattr(message, name)
    return name in descriptor.fields_by_name


def _message(message: Any, name: str) -> Any:
    return getattr(message, name) if message is not None and _has(message, name) else None


def _text(message: Any, name: str) -> str:
    value = getattr(message, name) if message is not None and _has(message, name) else ""
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""
