"""The request being served: set once where each RPC enters, read by log records and spans.

Nothing is worked out when the scope is set: the request ID and the fields read from
the request (namespace, workflow and run) are made the first time a record or a span
asks for them, so a request that logs nothing costs one context-variable set.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.tokens import TaskToken

_WORKFLOW_EXECUTION = "temporal.api.common.v1.WorkflowExecution"


@dataclass(slots=True, eq=False)
class RequestScope:
    """One RPC being served, and what its log lines and spans say about it."""

    rpc: str
    """The method's name, ``StartWorkflowExecution``."""
    request: Any
    """The decoded request message."""
    trace_id: str = ""
    """The trace its span is in (32 hex digits) while tracing is on, so logs and traces meet."""
    _fields: dict[str, str] | None = None
    _found_run: tuple[str, str] | None = None

    def fields(self) -> dict[str, str]:
        """``rpc``, ``request_id``, and the ``namespace``, ``workflow_id`` and ``run_id`` the
        request names (those it leaves empty are left out)."""
        if self._fields is None:
            self._fields = {"rpc": self.rpc, "request_id": uuid.uuid4().hex, **subject(self.request)}
            if self.trace_id:
                self._fields["trace_id"] = self.trace_id
        if self._found_run is not None:
            self._fields["workflow_id"], self._fields["run_id"] = self._found_run
            self._found_run = None
        return self._fields

    def names_run(self, workflow_id: str, run_id: str) -> None:
        """The request turned out to be about this run (the current run of the workflow it
        names, or the run of the task a poll hands over): the lines logged after name it."""
        self._found_run = (workflow_id, run_id)


current: ContextVar[RequestScope | None] = ContextVar("cadenza_request", default=None)
"""The request the running task serves, or None outside any request (timers, recovery)."""


def subject(request: Any) -> dict[str, str]:
    """The namespace, workflow ID and run ID a request names, those it gives."""
    descriptor: Descriptor | None = getattr(request, "DESCRIPTOR", None)
    if descriptor is None:
        return {}
    named = {"namespace": _namespace(request, descriptor)}
    named["workflow_id"], named["run_id"] = _execution(request, descriptor)
    return {key: value for key, value in named.items() if value}


def _namespace(request: Any, descriptor: Descriptor) -> str:
    field = descriptor.fields_by_name.get("namespace")
    if field is None or field.type != FieldDescriptor.TYPE_STRING:
        return ""
    return str(request.namespace)


def _execution(request: Any, descriptor: Descriptor) -> tuple[str, str]:
    """Where each family of requests names its run: starts and the ById forms by ID,
    most others by a ``WorkflowExecution``, update polls by reference, task answers by token."""
    fields = descriptor.fields_by_name
    if "workflow_id" in fields and fields["workflow_id"].type == FieldDescriptor.TYPE_STRING:
        run_id = request.run_id if "run_id" in fields else ""
        return str(request.workflow_id), str(run_id)
    for name in ("workflow_execution", "execution"):
        field = fields.get(name)
        kind = field.message_type if field is not None else None
        if kind is not None and kind.full_name == _WORKFLOW_EXECUTION:
            execution = getattr(request, name)
            return str(execution.workflow_id), str(execution.run_id)
    if "update_ref" in fields:
        execution = request.update_ref.workflow_execution
        return str(execution.workflow_id), str(execution.run_id)
    if "task_token" in fields and request.task_token:
        return _token_execution(request.task_token)
    if "operations" in fields and request.operations:  # update-with-start
        return str(request.operations[0].start_workflow.workflow_id), ""
    return "", ""


def _token_execution(data: bytes) -> tuple[str, str]:
    try:
        token = TaskToken.decode(data)
    # The RPC itself refuses such a token; the log line just lacks the run.
    except (InvalidArgumentError, RecursionError):
        return "", ""
    return token.workflow_id, token.run_id
