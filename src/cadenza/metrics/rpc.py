"""RPC metrics: Temporal's ``service_*`` family, recorded around every handler.

The API wraps each WorkflowService and OperatorService handler once, at start,
with ``RpcMetrics.wrap``; the wrapper finds the namespace in the request and
the outcome in the gRPC context, and so knows nothing of grpc itself. As in
Temporal's telemetry interceptor, ``service_error_with_type`` counts every
failed call and ``service_errors`` only the unexpected ones (not a bad
argument, a missing entity, a conflict or a cancelled call).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope, TaskQueueKind
from temporalio.api.errordetails.v1 import ResourceExhaustedFailure

from cadenza.metrics.families import Families
from cadenza.metrics.guard import OTHER, LabelGuard
from cadenza.metrics.tasks import StickyQueues

Handler = Callable[[Any, Any], Awaitable[Any]]

UNKNOWN_NAMESPACE = "_unknown_"
"""Temporal's namespace label for a request that names none."""
OPERATOR_SERVICE = "temporal.api.operatorservice.v1.OperatorService"
FRONTEND = "frontend"
"""The ``service_name`` of RPC metrics: the role Temporal's frontend plays."""

_EXPECTED_CODES = frozenset(
    {
        "CANCELLED",
        "INVALID_ARGUMENT",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "FAILED_PRECONDITION",
        "OUT_OF_RANGE",
        "UNAUTHENTICATED",
    }
)
"""Codes Temporal counts as the client's doing, not the server's (``service_errors`` skips them)."""

_ERROR_TYPES = {
    "CANCELLED": "Canceled",
    "INVALID_ARGUMENT": "InvalidArgument",
    "NOT_FOUND": "NotFound",
    "ALREADY_EXISTS": "AlreadyExists",
    "PERMISSION_DENIED": "PermissionDenied",
    "FAILED_PRECONDITION": "FailedPrecondition",
    "OUT_OF_RANGE": "OutOfRange",
    "UNAUTHENTICATED": "Unauthenticated",
    "RESOURCE_EXHAUSTED": "ResourceExhausted",
    "UNIMPLEMENTED": "Unimplemented",
    "UNAVAILABLE": "Unavailable",
    "DEADLINE_EXCEEDED": "DeadlineExceeded",
    "INTERNAL": "Internal",
    "DATA_LOSS": "DataLoss",
    "ABORTED": "Aborted",
}
"""gRPC codes as the names of Temporal's ``serviceerror`` types that carry them."""

_STICKY = TaskQueueKind.TASK_QUEUE_KIND_STICKY
_DETAILS_KEY = "grpc-status-details-bin"
_TEMPORAL_DETAILS = "temporal.api.errordetails."


class RpcMetrics:
    """Counts, times and tracks in-flight calls per operation and namespace.

    A namespace is labelled by name only once the server knows it exists (``known``),
    as in Temporal, where a name no namespace has is ``_unknown_``: a client cannot
    spend the label's limit on names it makes up. A call whose namespace is not
    loaded yet when it arrives is labelled when it ends, by which time it is.
    """

    def __init__(
        self,
        families: Families,
        namespaces: LabelGuard,
        sticky: StickyQueues,
        known: Callable[[str], bool],
    ) -> None:
        self._families = families
        self._namespaces = namespaces
        self._sticky = sticky
        self._known = known
        self._series: dict[tuple[str, str], _Series] = {}
        """Each (operation, namespace)'s children, so labels resolve once."""

    def wrap(self, service: str, method: str, handler: Handler) -> Handler:
        """``handler`` recorded under Temporal's operation name for ``method``."""
        operation = f"Operator{method}" if service == OPERATOR_SERVICE else method
        history_poll = method == "GetWorkflowExecutionHistory"
        task_poll = method == "PollWorkflowTaskQueue"

        async def observed(request: Any, context: Any) -> Any:
            name = operation
            if history_poll and request.wait_new_event:
                name = "PollWorkflowExecutionHistory"  # Temporal's name for the long-poll form
            elif task_poll and request.task_queue.kind == _STICKY and request.task_queue.normal_name:
                self._sticky.learn(request.task_queue.name, request.task_queue.normal_name)
            namespace = getattr(request, "namespace", "")
            if not isinstance(namespace, str):
                namespace = ""
            series = self._series.get((name, namespace)) or self._labelled(name, namespace, at_end=False)
            if series is not None:
                series.requests.inc()
                if series.pending is not None:
                    series.pending.inc()
            started = time.perf_counter()
            try:
                return await handler(request, context)
            except BaseException as error:
                self._failed(name, namespace, context, error)
                raise
            finally:
                elapsed = time.perf_counter() - started
                if series is None:
                    series = self._labelled(name, namespace, at_end=True)
                    series.requests.inc()
                elif series.pending is not None:
                    series.pending.dec()
                series.latency.observe(elapsed)

        return observed

    @overload
    def _labelled(self, operation: str, namespace: str, at_end: Literal[True]) -> _Series: ...

    @overload
    def _labelled(self, operation: str, namespace: str, at_end: bool) -> _Series | None: ...

    def _labelled(self, operation: str, namespace: str, at_end: bool) -> _Series | None:
        """The call's series; None if its namespace may yet prove real (label it ``at_end``)."""
        label = self._namespace_label(namespace)
        if label == UNKNOWN_NAMESPACE and namespace and not at_end:
            return None
        f = self._families
        series = _Series(
            f.service_requests.labels(FRONTEND, operation, label),
            f.service_latency.labels(FRONTEND, operation, label),
            # Temporal tracks only long polls as pending: they are what can pile up.
            f.service_pending_requests.labels(FRONTEND, operation, label)
            if operation.startswith("Poll")
            else None,
        )
        if label not in (OTHER, UNKNOWN_NAMESPACE):  # others are not remembered one by one
            self._series[(operation, namespace)] = series
        return series

    def _namespace_label(self, namespace: str) -> str:
        return self._namespaces(namespace) if namespace and self._known(namespace) else UNKNOWN_NAMESPACE

    def _failed(self, operation: str, namespace: str, context: Any, error: BaseException) -> None:
        code = _code_name(context, error)
        labels = (FRONTEND, operation, self._namespace_label(namespace))
        self._families.service_error_with_type.labels(*labels, error_type(code, context)).inc()
        exhausted = _resource_exhausted(context) if code == "RESOURCE_EXHAUSTED" else None
        if exhausted is not None:
            self._families.service_errors_resource_exhausted.labels(
                *labels,
                ResourceExhaustedCause.Name(exhausted.cause),
                ResourceExhaustedScope.Name(exhausted.scope),
            ).inc()
        # As on Temporal, a namespace over its own limit is the client's doing, not the server's.
        namespace_limit = (
            exhausted is not None
            and exhausted.scope == ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE
        )
        if code not in _EXPECTED_CODES and not namespace_limit:
            self._families.service_errors.labels(*labels).inc()


@dataclass(frozen=True)
class _Series:
    requests: Any
    latency: Any
    pending: Any | None


def _code_name(context: Any, error: BaseException) -> str:
    """The status the call ended with: what the handler aborted with, else as grpc reports it."""
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    code = context.code()
    # An exception that escaped without an abort reaches the client as UNKNOWN.
    return str(getattr(code, "name", "UNKNOWN")) if code is not None else "UNKNOWN"


def error_type(code: str, context: Any) -> str:
    """Temporal's ``error_type``: its serviceerror type, named by the status detail if one is set.

    A status with a Temporal error detail (``NamespaceNotFoundFailure``...) is the error
    type of that name, as in Temporal (``serviceerror_NamespaceNotFound``, the Go type
    ``serviceerror.NamespaceNotFound`` as its reporter writes a label value); otherwise
    the type that carries the bare code (``serviceerror_NotFound``).
    """
    detail = _detail_type(context) if code != "CANCELLED" else None
    if detail is not None:
        return f"serviceerror_{detail}"
    return f"serviceerror_{_ERROR_TYPES.get(code, 'Unknown')}"


def _status_details(context: Any) -> list[Any]:
    """The details of the status the call was aborted with; none if the context cannot say."""
    try:
        metadata = context.trailing_metadata() or ()
    except Exception:
        return []
    for key, value in metadata:
        if key == _DETAILS_KEY and isinstance(value, bytes):
            try:
                return list(status_pb2.Status.FromString(value).details)
            except DecodeError:
                return []
    return []


def _resource_exhausted(context: Any) -> ResourceExhaustedFailure:
    """The cause and scope of a RESOURCE_EXHAUSTED call (unspecified when it carries none)."""
    failure = ResourceExhaustedFailure()
    for detail in _status_details(context):
        if detail.Is(ResourceExhaustedFailure.DESCRIPTOR):
            detail.Unpack(failure)
    return failure


def _detail_type(context: Any) -> str | None:
    try:
        metadata = context.trailing_metadata() or ()
    except Exception:  # a context that cannot say; the code alone will do
        return None
    for key, value in metadata:
        if key == _DETAILS_KEY and isinstance(value, bytes):
            try:
                details = status_pb2.Status.FromString(value).details
            except DecodeError:
                return None
            for detail in details:
                type_name = str(detail.TypeName())
                if type_name.startswith(_TEMPORAL_DETAILS):
                    return type_name.rsplit(".", 1)[-1].removesuffix("Failure")
    return None
