"""A server process with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set sends its spans over OTLP, on
gRPC or, with ``OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf``, on HTTP, to a receiver the
test runs."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

from tests import servers
from tests.helpers import eventually, free_port

WORKFLOW_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"

Received = list[trace_service_pb2.ExportTraceServiceRequest]


def spans_in(received: Received) -> list[tuple[str, str, bytes]]:
    """(service name, span name, trace ID) of each span received."""
    found: list[tuple[str, str, bytes]] = []
    for request in list(received):
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                found.extend((attributes["service.name"], s.name, s.trace_id) for s in scope_spans.spans)
    return found


class GrpcReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    """OTLP/gRPC: the trace service's Export."""

    def __init__(self, received: Received) -> None:
        self.received = received

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: object
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.received.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
async def grpc_receiver() -> AsyncIterator[tuple[Received, str]]:
    received: Received = []
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(GrpcReceiver(received), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield received, f"http://127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
def http_receiver() -> Iterator[tuple[Received, str]]:
    """OTLP/HTTP: protobuf bodies POSTed to /v1/traces."""
    received: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.append(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
            answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(200 if self.path == "/v1/traces" else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


EXPECTED = ("cadenza", f"{WORKFLOW_SERVICE}/DescribeNamespace", bytes.fromhex(CALLER_TRACE_ID))


async def check_exported(tmp_path: Path, received: Received, endpoint: str, env: dict[str, str]) -> None:
    """Start a server exporting to ``endpoint``, call it within a caller's trace, and wait
    until its span arrives (named as ``env`` names the service, else ``cadenza``)."""
    server = servers.cadenza(
        tmp_path / "traced.db",
        tmp_path / "server.log",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100", **env},
    )
    server.start()
    try:
        await server.wait_ready()
        client = await Client.connect(server.address)
        await client.workflow_service.describe_namespace(
            wsv1.DescribeNamespaceRequest(namespace="default"),
            metadata={"traceparent": f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"},
        )
        expected = (env.get("OTEL_SERVICE_NAME", "cadenza"), *EXPECTED[1:])
        await eventually(lambda: expected in spans_in(received))
    finally:
        server.stop()


async def test_spans_go_over_otlp_grpc_by_default(
    tmp_path: Path, grpc_receiver: tuple[Received, str]
) -> None:
    received, endpoint = grpc_receiver
    await check_exported(tmp_path, received, endpoint, {})


async def test_spans_go_over_otlp_http_when_the_protocol_says_so(
    tmp_path: Path, http_receiver: tuple[Received, str]
) -> None:
    received, endpoint = http_receiver
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_SERVICE_NAME": "cadenza-east"}
    await check_exported(tmp_path, received, endpoint, env)


async def test_a_collector_that_is_down_does_not_hold_up_the_stop(tmp_path: Path) -> None:
    """The exporter would retry for a minute; the server stops cleanly all the same (a stop
    that took past 15 s would end in SIGKILL)."""
    server = servers.cadenza(
        tmp_path / "traced.db",
        tmp_path / "server.log",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "60",
            "OTEL_BSP_SCHEDULE_DELAY": "60000",
        },
    )
    server.start()
    try:
        await server.wait_ready()
        client = await Client.connect(server.address)
        await client.workflow_service.describe_namespace(wsv1.DescribeNamespaceRequest(namespace="default"))
    finally:
        server.stop()
    assert server.returncode == 0, server.log_text()
