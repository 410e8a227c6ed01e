"""OpenTelemetry spans: each RPC continues the trace its caller sent (the official SDK's
TracingInterceptor, or gRPC ``traceparent`` metadata), and each task a poll hands over is a
span of its own (test_tracing_export: a server process sends them over OTLP)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.api.common.v1 import Payload
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import Worker

from cadenza.observability import hooks
from cadenza.observability.logs import RequestContextFilter
from cadenza.observability.otel import OtelTracer
from tests import servers
from tests.acceptance import workflows as w
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered

WORKFLOW_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
GREETER = Registered([w.OneActivity], [w.shout])
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"


def in_memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.fixture
def server_spans() -> Iterator[InMemorySpanExporter]:
    """The spans of the servers this test starts in process."""
    provider, exporter = in_memory_provider()
    hooks.use_tracer(OtelTracer(provider))
    try:
        yield exporter
    finally:
        hooks.use_tracer(None)
        provider.shutdown()


def named(spans: Sequence[ReadableSpan], name: str, workflow_id: str | None = None) -> list[ReadableSpan]:
    return [
        span
        for span in spans
        if span.name == name
        and (workflow_id is None or (span.attributes or {}).get("temporalWorkflowID") == workflow_id)
    ]


def span_id_of(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def trace_id_of(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


async def greet_traced(workflow_id: str, task_queue: str, eager: bool) -> list[ReadableSpan]:
    """Run a workflow with one activity through a client and worker with the SDK's
    TracingInterceptor; return the client's spans."""
    client_provider, client_spans = in_memory_provider()
    interceptor = TracingInterceptor(client_provider.get_tracer("test client"))
    async with servers.in_process() as server:
        client = await Client.connect(server.address, interceptors=[interceptor])
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=GREETER.workflows,
            activities=GREETER.activities,
            disable_eager_activity_execution=not eager,
        ):
            result = await client.execute_workflow(
                w.OneActivity.run, "there", id=workflow_id, task_queue=task_queue
            )
    assert result == "Hello, there!"
    return list(client_spans.get_finished_spans())


async def test_rpc_spans_continue_the_sdk_interceptors_trace_and_each_workflow_task_handed_over_is_a_span(
    server_spans: InMemorySpanExporter, workflow_id: str, task_queue: str
) -> None:
    [client_start] = named(
        await greet_traced(workflow_id, task_queue, eager=True), "StartWorkflow:OneActivity"
    )
    spans = server_spans.get_finished_spans()
    [server_start] = named(spans, f"{WORKFLOW_SERVICE}/StartWorkflowExecution", workflow_id)
    assert server_start.kind == SpanKind.SERVER
    assert trace_id_of(server_start) == trace_id_of(client_start)
    assert server_start.parent is not None and server_start.parent.span_id == span_id_of(client_start)
    attributes = server_start.attributes or {}
    assert attributes["rpc.method"] == "StartWorkflowExecution"
    assert attributes["rpc.grpc.status_code"] == 0
    assert attributes["temporalNamespace"] == "default"

    # Each workflow task's dispatch: a span inside the poll that handed it over.
    polls = {span_id_of(s): s for s in named(spans, f"{WORKFLOW_SERVICE}/PollWorkflowTaskQueue", workflow_id)}
    dispatches = named(spans, "DispatchWorkflowTask", workflow_id)
    assert dispatches
    for dispatch in dispatches:
        assert dispatch.parent is not None and dispatch.parent.span_id in polls
    first = min(dispatches, key=lambda span: span.start_time or 0)
    assert (first.attributes or {})["temporalTaskQueue"] == task_queue  # later ones: the sticky queue
    for poll in polls.values():
        assert poll.parent is None  # the SDK's polls carry no trace context


@pytest.mark.parametrize(
    ("eager", "handed_over_by"), [(True, "RespondWorkflowTaskCompleted"), (False, "PollActivityTaskQueue")]
)
async def test_an_activity_tasks_dispatch_links_to_the_trace_that_scheduled_it(
    server_spans: InMemorySpanExporter, workflow_id: str, task_queue: str, eager: bool, handed_over_by: str
) -> None:
    client_spans = await greet_traced(workflow_id, task_queue, eager)
    [client_start] = named(client_spans, "StartWorkflow:OneActivity")
    spans = server_spans.get_finished_spans()
    [dispatch] = named(spans, "DispatchActivityTask", workflow_id)
    parents = {span_id_of(s) for s in named(spans, f"{WORKFLOW_SERVICE}/{handed_over_by}")}
    assert dispatch.parent is not None and dispatch.parent.span_id in parents
    # The workflow scheduled it within the client's trace, which the task's header carries.
    assert [link.context.trace_id for link in dispatch.links] == [trace_id_of(client_start)]
    assert bool((dispatch.attributes or {}).get("cadenza.task.eager")) is eager


async def test_an_rpc_span_continues_the_traceparent_of_the_calls_metadata(
    server_spans: InMemorySpanExporter,
) -> None:
    async with servers.in_process() as server:
        client = await Client.connect(server.address)
        await client.workflow_service.describe_namespace(
            wsv1.DescribeNamespaceRequest(namespace="default"),
            metadata={"traceparent": f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"},
        )
    [span] = named(server_spans.get_finished_spans(), f"{WORKFLOW_SERVICE}/DescribeNamespace")
    assert trace_id_of(span) == int(CALLER_TRACE_ID, 16)
    assert span.parent is not None and span.parent.span_id == int(CALLER_SPAN_ID, 16)


@pytest.mark.parametrize(
    "carrier", [b"not json", b"[]", b'{"traceparent": "00-xyz"}', b'{"traceparent": 1}', b"[" * 5000]
)
async def test_a_tracer_header_that_is_no_trace_context_starts_a_trace_of_its_own(
    server_spans: InMemorySpanExporter, workflow_id: str, carrier: bytes
) -> None:
    request = wsv1.StartWorkflowExecutionRequest(
        namespace="default", workflow_id=workflow_id, request_id=workflow_id, identity="test"
    )
    request.workflow_type.name = "Anything"
    request.task_queue.name = "no-worker"
    request.header.fields["_tracer-data"].CopyFrom(
        Payload(metadata={"encoding": b"json/plain"}, data=carrier)
    )
    async with servers.in_process() as server:
        client = await Client.connect(server.address)
        started = await client.workflow_service.start_workflow_execution(request)
    assert started.run_id
    [span] = named(server_spans.get_finished_spans(), f"{WORKFLOW_SERVICE}/StartWorkflowExecution")
    assert span.parent is None and span.status.is_ok


async def test_a_failed_rpc_span_has_the_calls_status(server_spans: InMemorySpanExporter) -> None:
    async with servers.in_process() as server:
        client = await Client.connect(server.address)
        with pytest.raises(Exception, match="not found"):
            await client.workflow_service.describe_namespace(
                wsv1.DescribeNamespaceRequest(namespace="nowhere")
            )
    [span] = named(server_spans.get_finished_spans(), f"{WORKFLOW_SERVICE}/DescribeNamespace")
    assert (span.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert not span.status.is_ok


class Kept(logging.Handler):
    """Keeps the records it handles, with the request fields the server's handler adds."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_requests_log_lines_name_the_trace_of_its_span(
    server_spans: InMemorySpanExporter, workflow_id: str
) -> None:
    client_provider, client_spans = in_memory_provider()
    kept = Kept()
    logger = logging.getLogger("cadenza.api.requests")
    logger.addHandler(kept)
    try:
        async with servers.in_process(dynamic_config={"limit.blobSize.warn": 100}) as server:
            client = await Client.connect(
                server.address, interceptors=[TracingInterceptor(client_provider.get_tracer("test client"))]
            )
            handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="no-worker")
            await handle.signal(wm.Mailbox.deliver, "x" * 200)  # over the warning limit: logged
            await handle.terminate()
    finally:
        logger.removeHandler(kept)
    [client_signal] = named(client_spans.get_finished_spans(), "SignalWorkflow:deliver")
    [warning] = [r for r in kept.records if "exceeds the warning limit" in r.getMessage()]
    assert warning.__dict__["rpc"] == "SignalWorkflowExecution"
    assert warning.__dict__["trace_id"] == format(trace_id_of(client_signal), "032x")
