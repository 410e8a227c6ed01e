"""Length and depth limits on the fields of incoming requests, with Temporal's wording.

Checked for every RPC before its handler runs (see ``cadenza.api.errors.translated``).
Start requests are checked by the engine (``cadenza.history.machine.starts``), because
SignalWithStart and ExecuteMultiOperation start workflows through it too.
"""

from __future__ import annotations

from typing import Any

from cadenza.validation import check_failure, check_length, check_length_counted

_TASK_QUEUE = (("task_queue.name", "taskQueue length exceeds limit"),)

_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "SignalWorkflowExecutionRequest": (
        ("signal_name", "SignalName length exceeds limit."),
        ("request_id", "RequestId length exceeds limit."),
    ),
    "UpdateWorkflowExecutionRequest": (("request.meta.update_id", "UpdateId length exceeds limit."),),
    "PollWorkflowTaskQueueRequest": _TASK_QUEUE,
    "PollActivityTaskQueueRequest": _TASK_QUEUE,
    "PollNexusTaskQueueRequest": _TASK_QUEUE,
    "DescribeTaskQueueRequest": _TASK_QUEUE,
    "ListTaskQueuePartitionsRequest": _TASK_QUEUE,
}
"""Per request type: the (dotted field path, message) pairs limited to the ID length."""

_COUNTED_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "SignalWithStartWorkflowExecutionRequest": (("signal_name", "signal name"),),
}
"""The same, where Temporal's message states the length: (path, label)."""

_FAILURES: dict[str, tuple[str, ...]] = {
    "RespondActivityTaskFailedRequest": ("failure",),
    "RespondActivityTaskFailedByIdRequest": ("failure",),
    "RespondWorkflowTaskFailedRequest": ("failure",),
    "RespondQueryTaskCompletedRequest": ("failure",),
}
"""Per request type: the failure fields whose cause chain is limited in depth."""


def check(request: Any) -> None:
    """Refuse a request with a name over the length limit or a failure chain too deep."""
    kind = request.DESCRIPTOR.name
    namespace = getattr(request, "namespace", None)
    if isinstance(namespace, str):
        check_length(namespace, "Namespace length exceeds limit.")
    for path, message in _NAMES.get(kind, ()):
        check_length(_field(request, path), message)
    for path, label in _COUNTED_NAMES.get(kind, ()):
        check_length_counted(_field(request, path), label)
    for name in _FAILURES.get(kind, ()):
        if request.HasField(name):
            check_failure(getattr(request, name))
    if kind == "ExecuteMultiOperationRequest":
        for operation in request.operations:
            if operation.HasField("update_workflow"):
                check(operation.update_workflow)


def _field(message: Any, path: str) -> str:
    for name in path.split("."):
        message = getattr(message, name)
    return str(message)
