"""Builds the gRPC server: servicers, health checks, message limits, compression."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api.operator_service import OperatorService
from cadenza.api.tls_credentials import server_credentials
from cadenza.api.workflow_service import WorkflowService
from cadenza.observability.hooks import observed
from cadenza.tls import TlsFiles

logger = logging.getLogger(__name__)

WORKFLOW_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
OPERATOR_SERVICE = "temporal.api.operatorservice.v1.OperatorService"
HEALTH_SERVICE = "grpc.health.v1.Health"


def _unimplemented(name: str) -> Any:
    async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not implemented by Cadenza")

    handler.__name__ = name
    return handler


def fill_unimplemented(servicer_class: type, service_name: str, descriptor: Any) -> None:
    """Give every RPC the class lacks an async handler that answers UNIMPLEMENTED.

    The generated base class's defaults are synchronous, which grpc.aio cannot
    run without a thread pool.
    """
    service = descriptor.services_by_name[service_name.rsplit(".", 1)[1]]
    for method in service.methods:
        existing = getattr(servicer_class, method.name, None)
        if existing is None or not inspect.iscoroutinefunction(existing):
            setattr(servicer_class, method.name, _unimplemented(method.name))


fill_unimplemented(WorkflowService, WORKFLOW_SERVICE, workflow_service_pb2.DESCRIPTOR)
fill_unimplemented(OperatorService, OPERATOR_SERVICE, operator_service_pb2.DESCRIPTOR)


GrpcServer = grpc.aio.Server
"""The running gRPC server as ``cadenza.server.Server`` holds it, so only the API imports grpc."""

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def _decoding(method: Any, handler: Handler) -> Handler:
    """Parse the request body here, so one that is not the method's protobuf is refused.

    grpc's own deserialization would answer UNKNOWN and log a traceback at ERROR for
    every such request; this answers INVALID_ARGUMENT and logs one line.
    """
    request_class = message_factory.GetMessageClass(method.input_type)

    async def decode_then_handle(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            request = request_class.FromString(body)
        except DecodeError as error:
            logger.info("refused an undecodable %s request: %s", method.name, error)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"error unmarshalling request: {error}")
        return await handler(request, context)

    return decode_then_handle


def _serialized(response: Any) -> bytes:
    """A response message's bytes; a handler may answer with bytes it assembled itself."""
    return response if isinstance(response, bytes) else response.SerializeToString()


RpcWrapper = Callable[[str, str, Handler], Handler]
"""Wraps one RPC's handler, given its service and method names (metrics record each call so)."""


def _unwrapped(_service: str, _method: str, handler: Handler) -> Handler:
    return handler


def chained(wrappers: Sequence[RpcWrapper]) -> RpcWrapper:
    """One wrapper applying ``wrappers`` outermost first: the first sees every call, even one a
    later wrapper refuses."""

    def wrap(service: str, method: str, handler: Handler) -> Handler:
        for wrapper in reversed(wrappers):
            handler = wrapper(service, method, handler)
        return handler

    return wrap


def _service_handler(
    servicer: Any, service_name: str, descriptor: Any, wrap: RpcWrapper = _unwrapped
) -> grpc.GenericRpcHandler[Any, Any]:
    """Every RPC of the service, answered by the servicer's method of the same name."""
    service = descriptor.services_by_name[service_name.rsplit(".", 1)[1]]
    handlers = {}
    for method in service.methods:
        # A streaming reply (the health Watch) is written by the handler through its context.
        kind = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = kind(
            _decoding(
                method,
                observed(
                    service_name, method.name, wrap(service_name, method.name, getattr(servicer, method.name))
                ),
            ),
            request_deserializer=None,
            response_serializer=_serialized,
        )
    return grpc.method_handlers_generic_handler(service_name, handlers)


async def build(
    workflow_service: WorkflowService,
    operator_service: OperatorService,
    address: str,
    max_message: int,
    wrap_rpc: RpcWrapper = _unwrapped,
    tls: TlsFiles | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A server bound to ``address``; returns it and the port it bound.

    ``wrap_rpc`` wraps each WorkflowService and OperatorService handler once, here; with
    ``tls`` the port speaks only TLS (mTLS when it names client CAs).
    """
    options = [
        ("grpc.max_receive_message_length", max_message),
        ("grpc.max_send_message_length", max_message),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.aio.server(options=options)
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    server.add_generic_rpc_handlers(
        (
            _service_handler(workflow_service, WORKFLOW_SERVICE, workflow_service_pb2.DESCRIPTOR, wrap_rpc),
            _service_handler(operator_service, OPERATOR_SERVICE, operator_service_pb2.DESCRIPTOR, wrap_rpc),
            _service_handler(health_servicer, HEALTH_SERVICE, health_pb2.DESCRIPTOR),
        )
    )
    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, server_credentials(tls))
    except RuntimeError as exc:  # how grpc reports a failed bind; older versions returned 0
        raise OSError(f"cannot listen on {address}") from exc
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    for name in ("", WORKFLOW_SERVICE, OPERATOR_SERVICE):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port
