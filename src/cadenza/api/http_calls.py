"""Calls from the HTTP API into the very servicer methods gRPC calls.

Temporal's HTTP API is its gRPC API reached over HTTP: the real server hands each
HTTP request to the same handler as its gRPC twin. Here the servicer methods take
``(request, context)``; ``HttpCallContext`` stands in for grpc's context with
what they use of it (abort, abort_with_status, time_remaining, done,
invocation_metadata, auth_context), so a handler cannot tell the two apart and behaviour
cannot drift. An abort ends the call as ``CallFailed`` carrying the status, for
the HTTP layer to write as Temporal's error JSON; nothing outside ``api/``
needs grpc for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, NoReturn

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api.errors import bounded
from cadenza.api.operator_service import OperatorService
from cadenza.api.workflow_service import WorkflowService
from cadenza.observability.hooks import Handler, observed

logger = logging.getLogger(__name__)

STATUS_DETAILS_KEY = "grpc-status-details-bin"
"""The trailer in which a gRPC status travels whole, details included."""


PEER_CERTIFICATE_KEY = "x509_pem_cert"
"""Where gRPC's ``auth_context()`` holds the verified client certificate, PEM."""


class CallFailed(Exception):
    """The call ended with a gRPC status other than OK."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


class _Aborted(grpc.aio.AbortError):
    # An AbortError, so ``cadenza.api.errors.translated`` lets it pass as it lets grpc's own.
    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


browser_credentials: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("browser_credentials", default=())
"""The credentials of the browser whose page is being served (its ``authorization`` metadata),
for the calls a page makes without metadata of its own: so the UI calls as the signed-in user."""


class HttpCallContext:
    """What a servicer method uses of ``grpc.aio.ServicerContext``, for a call made over HTTP."""

    def __init__(
        self,
        metadata: Iterable[tuple[str, str]] | None = None,
        timeout: float | None = None,
        disconnected: Callable[[], bool] = lambda: False,
        client_certificate: bytes | None = None,
    ) -> None:
        """``metadata`` as the request sent it (Temporal's HTTP API); None for a call the server
        makes for a page, which carries the page's ``browser_credentials``.
        ``client_certificate``: the verified certificate (PEM) the HTTPS connection was made
        with under mTLS."""
        self._metadata = browser_credentials.get() if metadata is None else tuple(metadata)
        self._client_certificate = client_certificate
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._disconnected = disconnected
        self._code: grpc.StatusCode | None = None
        self._trailing: tuple[tuple[str, Any], ...] = ()

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> NoReturn:
        self._code = code
        raise _Aborted(status_pb2.Status(code=code.value[0], message=details))

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        self._code, self._trailing = status.code, tuple(status.trailing_metadata or ())
        for key, value in self._trailing:
            if key == STATUS_DETAILS_KEY:
                raise _Aborted(status_pb2.Status.FromString(value))
        raise _Aborted(status_pb2.Status(code=status.code.value[0], message=status.details))

    def code(self) -> grpc.StatusCode | None:
        """The code the call was aborted with, as gRPC's context reports it (metrics read it)."""
        return self._code

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        """The aborted status's trailers, carrying its details, as gRPC's context reports them."""
        return self._trailing

    def time_remaining(self) -> float | None:
        """Seconds until the caller's deadline; None when it set none, as on gRPC."""
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def done(self) -> bool:
        """Whether the caller has gone (an HTTP client that closed its connection)."""
        return self._disconnected()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        """The TLS peer as gRPC's context reports it: the client certificate under
        ``x509_pem_cert`` when the connection had one."""
        if self._client_certificate is None:
            return {}
        return {PEER_CERTIFICATE_KEY: [self._client_certificate]}


RpcWrapper = Callable[[str, str, Handler], Handler]
"""Wraps a servicer method as gRPC's server does (service, method, handler)."""


async def called(handler: Handler, request: Any, context: HttpCallContext) -> Any:
    """``handler``'s answer to ``request``; ``CallFailed`` with the status it aborted with."""
    try:
        return await handler(request, context)
    except grpc.aio.AbortError as aborted:
        status = getattr(aborted, "status", None)
        if not isinstance(status, status_pb2.Status):
            status = status_pb2.Status(code=code_pb2.UNKNOWN, message=str(aborted))
        raise CallFailed(status) from None


class HttpCalls:
    """The unary RPCs of the servicers, by service and method name, for the HTTP API to call."""

    def __init__(self, servicers: Mapping[str, Any], wrap: RpcWrapper | None = None) -> None:
        """``servicers`` maps a service's full name (``temporal.api.workflowservice.v1.WorkflowService``)
        to the servicer gRPC serves it with; ``wrap`` wraps each handler as gRPC's are (metrics)."""
        self._servicers = dict(servicers)
        self._wrap = wrap
        self._handlers: dict[tuple[str, str], Handler] = {}

    @classmethod
    def of(
        cls,
        workflow_service: WorkflowService,
        operator_service: OperatorService,
        wrap: RpcWrapper | None = None,
    ) -> HttpCalls:
        """The calls of the two servicers gRPC serves Temporal's API with."""
        return cls(
            {
                workflow_service_pb2.DESCRIPTOR.services_by_name[
                    "WorkflowService"
                ].full_name: workflow_service,
                operator_service_pb2.DESCRIPTOR.services_by_name[
                    "OperatorService"
                ].full_name: operator_service,
            },
            wrap,
        )

    async def call(self, method: MethodDescriptor, request: Message, context: HttpCallContext) -> Message:
        """Run ``method``'s handler on ``request``; its answer, or ``CallFailed`` with its status."""
        servicer = self._servicers.get(method.containing_service.full_name)
        if servicer is None:
            raise CallFailed(status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="unknown service"))
        handler = self._handler(method.containing_service.full_name, method.name, servicer)
        try:
            response = await handler(request, context)
        except _Aborted as aborted:
            raise CallFailed(aborted.status) from None
        except Exception as error:
            logger.exception("internal error in %s over HTTP", method.name)
            status = status_pb2.Status(
                code=code_pb2.INTERNAL, message=bounded(f"internal error: {type(error).__name__}: {error}")
            )
            raise CallFailed(status) from error
        return _as_message(method, response)

    def _handler(self, service: str, name: str, servicer: Any) -> Handler:
        """The method wrapped as its gRPC twin is: the same request scope (log fields, span) and
        the same metrics."""
        key = (service, name)
        handler = self._handlers.get(key)
        if handler is None:
            handler = getattr(servicer, name)
            if self._wrap is not None:
                handler = self._wrap(service, name, handler)
            handler = self._handlers[key] = observed(service, name, handler)
        return handler


def _as_message(method: MethodDescriptor, response: Message | bytes) -> Message:
    """The response as a message; a handler may answer with the bytes it assembled (history pages)."""
    if not isinstance(response, bytes):
        return response
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        return response_class.FromString(response)
    except DecodeError as error:  # bytes the server itself wrote: a bug, said as such
        raise CallFailed(
            status_pb2.Status(code=code_pb2.INTERNAL, message=f"internal error: undecodable answer: {error}")
        ) from error
