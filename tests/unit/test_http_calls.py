"""The context HTTP calls give the servicer methods: it acts as grpc's where the methods use it."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import code_pb2
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.api.workflowservice.v1 import service_pb2

from cadenza import exceptions
from cadenza.api.errors import translated
from cadenza.api.http_calls import CallFailed, HttpCallContext, HttpCalls

SERVICE = service_pb2.DESCRIPTOR.services_by_name["WorkflowService"]


class Servicer:
    """Handlers that end the ways real ones do: an answer, a domain error, an abort, bytes."""

    @translated
    async def DescribeNamespace(self, request: Any, context: Any) -> wsv1.DescribeNamespaceResponse:
        if request.namespace == "missing":
            raise exceptions.NamespaceNotFoundError("missing")
        return wsv1.DescribeNamespaceResponse(is_global_namespace=True)

    async def GetSystemInfo(self, request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not here")

    async def GetClusterInfo(self, request: Any, context: Any) -> bytes:
        return wsv1.GetClusterInfoResponse(cluster_name="c").SerializeToString()


CALLS = HttpCalls({SERVICE.full_name: Servicer()})


async def test_an_answer_a_domain_error_an_abort_and_bytes() -> None:
    describe = SERVICE.methods_by_name["DescribeNamespace"]
    answer = await CALLS.call(describe, wsv1.DescribeNamespaceRequest(namespace="n"), HttpCallContext())
    assert answer == wsv1.DescribeNamespaceResponse(is_global_namespace=True)
    with pytest.raises(CallFailed) as failed:
        await CALLS.call(describe, wsv1.DescribeNamespaceRequest(namespace="missing"), HttpCallContext())
    assert failed.value.status.code == code_pb2.NOT_FOUND
    assert failed.value.status.details[0].type_url.endswith("NamespaceNotFoundFailure")
    with pytest.raises(CallFailed) as aborted:
        await CALLS.call(
            SERVICE.methods_by_name["GetSystemInfo"], wsv1.GetSystemInfoRequest(), HttpCallContext()
        )
    assert (aborted.value.status.code, aborted.value.status.message) == (code_pb2.UNIMPLEMENTED, "not here")
    cluster = await CALLS.call(
        SERVICE.methods_by_name["GetClusterInfo"], wsv1.GetClusterInfoRequest(), HttpCallContext()
    )
    assert cluster == wsv1.GetClusterInfoResponse(cluster_name="c")


def test_deadline_caller_and_metadata() -> None:
    gone = [False]
    context = HttpCallContext([("authorization", "Bearer x")], timeout=30, disconnected=lambda: gone[0])
    remaining = context.time_remaining()
    assert remaining is not None and 0 < remaining <= 30
    assert HttpCallContext().time_remaining() is None
    assert not context.done()
    gone[0] = True
    assert context.done()
    assert context.invocation_metadata() == (("authorization", "Bearer x"),)
