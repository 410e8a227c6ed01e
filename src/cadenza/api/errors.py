"""The one place where Cadenza's errors become gRPC statuses with Temporal's error details."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status
from temporalio.api.errordetails.v1 import (
    ActivityExecutionAlreadyStartedFailure,
    MultiOperationExecutionFailure,
    NamespaceAlreadyExistsFailure,
    NamespaceNotFoundFailure,
    NexusOperationExecutionAlreadyStartedFailure,
    NotFoundFailure,
    PermissionDeniedFailure,
    QueryFailedFailure,
    ResourceExhaustedFailure,
    WorkflowExecutionAlreadyStartedFailure,
)
from temporalio.api.failure.v1 import Failure, MultiOperationExecutionAborted

from cadenza import exceptions as exc
from cadenza.api import request_limits
from cadenza.conflicts import retrying_conflicts
from cadenza.persistence.errors import StorageError

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 2048
"""The longest status message sent, in UTF-8 bytes.

Messages quote client input (IDs, names). A status travels in HTTP/2 trailers,
where grpc-message is percent-encoded and grpc-status-details-bin repeats it in
base64; clients refuse trailers over 16 KB and drop the whole connection, so
every message and detail is bounded before it is sent.
"""

MAX_DETAIL_BYTES = 4096
"""A failure carried in an error detail is trimmed to its message past this size."""

_CODES: list[tuple[type[exc.CadenzaError], int]] = [
    (exc.InvalidArgumentError, code_pb2.INVALID_ARGUMENT),
    (exc.NamespaceNotFoundError, code_pb2.NOT_FOUND),
    (exc.NotFoundError, code_pb2.NOT_FOUND),
    (exc.NamespaceAlreadyExistsError, code_pb2.ALREADY_EXISTS),
    (exc.WorkflowAlreadyStartedError, code_pb2.ALREADY_EXISTS),
    (exc.ActivityAlreadyStartedError, code_pb2.ALREADY_EXISTS),
    (exc.AlreadyExistsError, code_pb2.ALREADY_EXISTS),
    (exc.FailedPreconditionError, code_pb2.FAILED_PRECONDITION),
    (exc.QueryFailedError, code_pb2.INVALID_ARGUMENT),
    (exc.DeadlineExceededError, code_pb2.DEADLINE_EXCEEDED),
    (exc.ResourceExhaustedError, code_pb2.RESOURCE_EXHAUSTED),
    (exc.PermissionDeniedError, code_pb2.PERMISSION_DENIED),
    (exc.UnimplementedError, code_pb2.UNIMPLEMENTED),
]


def to_status(error: exc.CadenzaError) -> status_pb2.Status:
    # A failed multi-operation carries the code of the operation that failed.
    coded = error.cause if isinstance(error, exc.MultiOperationError) else error
    code = next((c for kind, c in _CODES if isinstance(coded, kind)), code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=bounded(error.message))
    detail = _detail(error)
    if detail is not None:
        status.details.append(_packed(detail))
    return status


def _packed(detail: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def _operation_statuses(error: exc.MultiOperationError) -> MultiOperationExecutionFailure:
    """Each operation's own status; those that never ran say they were aborted."""
    failure = MultiOperationExecutionFailure()
    for cause in error.errors:
        entry = failure.statuses.add()
        if cause is None:
            entry.code = code_pb2.ABORTED
            entry.message = "Operation was aborted."
            entry.details.append(_packed(MultiOperationExecutionAborted()))
        else:
            own = to_status(cause)
            entry.code, entry.message = own.code, own.message
            entry.details.extend(own.details)
    return failure


def _detail(error: exc.CadenzaError) -> Message | None:
    if isinstance(error, exc.MultiOperationError):
        return _operation_statuses(error)
    if isinstance(error, exc.NamespaceNotFoundError):
        return NamespaceNotFoundFailure(namespace=bounded(error.namespace))
    if isinstance(error, exc.WorkflowAlreadyStartedError):
        return WorkflowExecutionAlreadyStartedFailure(
            start_request_id=bounded(error.start_request_id), run_id=error.run_id
        )
    if isinstance(error, exc.NexusOperationAlreadyStartedError):
        return NexusOperationExecutionAlreadyStartedFailure(
            start_request_id=bounded(error.start_request_id), run_id=error.run_id
        )
    if isinstance(error, exc.ActivityAlreadyStartedError):
        return ActivityExecutionAlreadyStartedFailure(
            start_request_id=bounded(error.start_request_id), run_id=error.run_id
        )
    if isinstance(error, exc.NamespaceAlreadyExistsError):
        return NamespaceAlreadyExistsFailure()
    if isinstance(error, exc.NotFoundError):
        return NotFoundFailure()
    if isinstance(error, exc.PermissionDeniedError):
        return PermissionDeniedFailure()
    if isinstance(error, exc.ResourceExhaustedError) and error.cause:
        return ResourceExhaustedFailure(cause=error.cause, scope=error.scope)  # type: ignore[arg-type]
    if isinstance(error, exc.QueryFailedError):
        detail = QueryFailedFailure()
        if isinstance(error.failure, Failure):
            detail.failure.CopyFrom(error.failure)
            if detail.ByteSize() > MAX_DETAIL_BYTES:
                detail.failure.Clear()
                detail.failure.message = bounded(error.failure.message)
        return detail
    return None


def bounded(text: str) -> str:
    """``text`` cut to ``MAX_MESSAGE_BYTES`` of UTF-8, never inside a character."""
    data = text.encode()
    if len(data) <= MAX_MESSAGE_BYTES:
        return text
    return data[: MAX_MESSAGE_BYTES - 3].decode(errors="ignore") + "..."


H = TypeVar("H", bound=Callable[..., Awaitable[Any]])


def translated(handler: H) -> H:
    """Wrap a servicer method so domain errors reach the client as gRPC statuses."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            request_limits.check(request)
            return await retrying_conflicts(lambda: handler(self, request, context), handler.__name__)
        except exc.CadenzaError as error:
            await context.abort_with_status(  # type: ignore[attr-defined]
                rpc_status.to_status(to_status(error))
            )
        except exc.ConcurrentUpdateError as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, bounded(f"concurrent update, retry: {error}"))
        except StorageError as error:
            # The database is unreachable for now (restarting, failing over): clients retry.
            await context.abort(grpc.StatusCode.UNAVAILABLE, bounded(f"database unavailable: {error}"))
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            logger.exception("internal error in %s", handler.__name__)
            await context.abort(
                grpc.StatusCode.INTERNAL, bounded(f"internal error: {type(error).__name__}: {error}")
            )

    return wrapper  # type: ignore[return-value]
