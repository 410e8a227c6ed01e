"""The UI's one way in: each read and action is an RPC run through the servicer method its gRPC
twin runs (``cadenza.api.http_calls``), so the UI can show nothing and do nothing a client cannot."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api.http_calls import CallFailed, HttpCallContext, HttpCalls
from cadenza.web.tls_protocol import connection_certificate

__all__ = ["CallFailed", "Rpc"]

M = TypeVar("M", bound=Message)

_SERVICES = (
    workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
    operator_service_pb2.DESCRIPTOR.services_by_name["OperatorService"],
)
_METHODS: dict[str, MethodDescriptor] = {
    method.name: method for service in _SERVICES for method in service.methods
}

UI_CALL_SECONDS = 30.0
"""Deadline of a page's calls, so a page is never left waiting on a call without end."""


class Rpc:
    """Calls by method name: ``await rpc("DescribeNamespace", request, reply_type)``."""

    def __init__(self, calls: HttpCalls) -> None:
        self._calls = calls

    async def __call__(
        self, method: str, request: Message, reply_type: type[M], timeout: float = UI_CALL_SECONDS
    ) -> M:
        # The page's calls are the browser's: under mTLS they carry its certificate.
        context = HttpCallContext(timeout=timeout, client_certificate=connection_certificate.get())
        reply = await self._calls.call(_METHODS[method], request, context)
        assert isinstance(reply, reply_type), f"{method} answered {type(reply).__name__}"
        return reply
