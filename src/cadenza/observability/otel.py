"""OpenTelemetry spans for each RPC and each task handed to a worker; the only module that
imports OpenTelemetry, loaded only when tracing is asked for (``cadenza[otel]``).

An RPC's span continues its caller's W3C trace context. Two carriers are read, the first
that has a ``traceparent`` winning:

- the call's gRPC metadata (``traceparent``, ``tracestate``), as OpenTelemetry's gRPC
  instrumentation sends it: the caller's own span around this very call;
- the Temporal ``header`` of the request, entry ``_tracer-data``: a ``json/plain`` payload
  holding the carrier, which is what the official SDKs' tracing interceptors send
  (``temporalio.contrib.opentelemetry.TracingInterceptor`` and its Go, Java and TypeScript
  counterparts) on starts, signals, signal-with-start, queries, updates and update-with-start.
  The Python SDK sends no ``traceparent`` metadata (its calls carry only client name,
  version, namespace and user agent), nor do the others unless their gRPC connection is
  instrumented, so for them the header is the caller's span.

A task's dispatch span is a child of the poll that hands it over (or, for an activity task
dispatched eagerly, of the workflow task completion whose answer carries it); an activity
task whose header carries the context of the workflow that scheduled it links to it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cadenza import __version__
from cadenza.config import ConfigError
from cadenza.observability.scope import RequestScope
from cadenza.persistence.records import TaskKind, TaskRecord

TRACER_HEADER = "_tracer-data"
"""The Temporal header entry the SDKs' tracing interceptors put their carrier in."""

_HEADER_PATHS: dict[str, tuple[str | int, ...]] = {
    "temporal.api.workflowservice.v1.StartWorkflowExecutionRequest": ("header",),
    "temporal.api.workflowservice.v1.SignalWorkflowExecutionRequest": ("header",),
    "temporal.api.workflowservice.v1.SignalWithStartWorkflowExecutionRequest": ("header",),
    "temporal.api.workflowservice.v1.StartActivityExecutionRequest": ("header",),
    "temporal.api.workflowservice.v1.QueryWorkflowRequest": ("query", "header"),
    "temporal.api.workflowservice.v1.UpdateWorkflowExecutionRequest": ("request", "input", "header"),
    # Update-with-start: the SDK puts the same carrier on both operations.
    "temporal.api.workflowservice.v1.ExecuteMultiOperationRequest": (
        "operations",
        0,
        "start_workflow",
        "header",
    ),
}
"""Where each request the SDKs trace carries its Temporal header."""

_REQUEST_ATTRIBUTES = {
    "request_id": "cadenza.request_id",
    "namespace": "temporalNamespace",
    "workflow_id": "temporalWorkflowID",
    "run_id": "temporalRunID",
}
"""The request's fields as span attributes, under the names the SDKs' spans use."""

_propagator = TraceContextTextMapPropagator()

EXPORT_GRACE = 5.0
"""Seconds a stopping server waits for its last spans to be sent."""


class OtelTracer:
    """Spans for RPCs and dispatches, made by ``provider``'s tracer."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("cadenza", __version__)

    @contextmanager
    def rpc_span(self, service: str, scope: RequestScope, context: Any) -> Iterator[None]:
        with self._tracer.start_as_current_span(
            f"{service}/{scope.rpc}",
            context=caller_context(scope.request, context),
            kind=SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": scope.rpc},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            scope.trace_id = format(span.get_span_context().trace_id, "032x")
            try:
                yield
            except BaseException as error:
                _failed(span, context, error)
                raise
            else:
                span.set_attribute("rpc.grpc.status_code", 0)
            finally:
                # Read at the end: a poll names the run of the task it handed over.
                for field, value in scope.fields().items():
                    if field in _REQUEST_ATTRIBUTES:
                        span.set_attribute(_REQUEST_ATTRIBUTES[field], value)

    def task_dispatched(
        self, task: TaskRecord, started_ns: int, response: object, error: BaseException | None
    ) -> None:
        span = self._tracer.start_span(
            _dispatch_name(task),
            kind=SpanKind.INTERNAL,
            start_time=started_ns,
            links=_scheduled_by(response),
            attributes={
                "temporalWorkflowID": task.workflow_id,
                "temporalRunID": task.run_id,
                "temporalTaskQueue": task.task_queue,
                "temporalTaskAttempt": task.attempt,
            },
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif response is None:  # the task was obsolete by the time it was recorded
            span.set_attribute("cadenza.task.obsolete", True)
        span.end()

    def activity_handed_over(self, task: Any, started_ns: int) -> None:
        execution = task.workflow_execution
        self._tracer.start_span(
            "DispatchActivityTask",
            kind=SpanKind.INTERNAL,
            start_time=started_ns,
            links=_scheduled_by(task),
            attributes={
                "temporalWorkflowID": execution.workflow_id,
                "temporalRunID": execution.run_id,
                "temporalActivityID": task.activity_id,
                "temporalTaskAttempt": task.attempt,
                "cadenza.task.eager": True,
            },
        ).end()

    def shutdown(self) -> None:
        """Send what is left, waiting at most ``EXPORT_GRACE`` seconds: a collector that is
        down must not hold up the server's stop (the exporter retries for longer)."""
        closing = threading.Thread(target=self._provider.shutdown, name="cadenza-trace-shutdown", daemon=True)
        closing.start()
        closing.join(EXPORT_GRACE)


def _dispatch_name(task: TaskRecord) -> str:
    if task.kind is TaskKind.ACTIVITY:
        return "DispatchActivityTask"
    return "DispatchQueryTask" if task.query_id else "DispatchWorkflowTask"


def _failed(span: Span, context: Any, error: BaseException) -> None:
    """Mark the span failed with the gRPC status the call ended with."""
    code = context.code() if hasattr(context, "code") else None
    if code is not None:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
    details = context.details() if hasattr(context, "details") else None
    description = details or f"{type(error).__name__}: {error}"
    span.set_status(Status(StatusCode.ERROR, str(description)))


def caller_context(request: Any, context: Any) -> Context:
    """The trace context the caller sent, or an empty one (the span is then a root: a span
    current in this process, say a test's own, is never taken for the caller's)."""
    carrier = _metadata_carrier(context)
    if "traceparent" not in carrier:
        carrier = header_carrier(request)
    return _propagator.extract(carrier, context=Context())


def _metadata_carrier(context: Any) -> dict[str, str]:
    metadata = context.invocation_metadata() if hasattr(context, "invocation_metadata") else None
    return {
        key: value
        for key, value in metadata or ()
        if key in ("traceparent", "tracestate") and isinstance(value, str)
    }


def header_carrier(request: Any) -> dict[str, str]:
    """The ``_tracer-data`` carrier of the request's Temporal header; empty if it has none
    or it is not a JSON object (it is the client's to send, and never fails the call)."""
    descriptor = getattr(request, "DESCRIPTOR", None)
    path = _HEADER_PATHS.get(descriptor.full_name) if descriptor is not None else None
    if path is None:
        return {}
    node = request
    for step in path:
        if isinstance(step, int):
            if len(node) <= step:
                return {}
            node = node[step]
        else:
            node = getattr(node, step)
    return _carrier_of(node)


def _carrier_of(header: Any) -> dict[str, str]:
    if TRACER_HEADER not in header.fields:
        return {}
    try:
        data = orjson.loads(header.fields[TRACER_HEADER].data)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _scheduled_by(response: object) -> list[Link]:
    """A link to the context an activity task's header carries (the workflow's span that
    scheduled it); none for a workflow task, whose answer is sent as stored bytes."""
    header = getattr(response, "header", None)
    if header is None:
        return []
    span_context = trace.get_current_span(_propagator.extract(_carrier_of(header), context=Context()))
    found = span_context.get_span_context()
    return [Link(found)] if found.is_valid else []


def exporting_tracer(env: Mapping[str, str]) -> OtelTracer:
    """A tracer whose spans go in batches to the OTLP endpoint the standard variables name
    (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._PROTOCOL`` grpc or http/protobuf, ``OTEL_SERVICE_NAME``
    defaulting to ``cadenza``, ``OTEL_BSP_*`` for the batches)."""
    exporter = _exporter(env)
    resource = Resource.create({"service.version": __version__})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        # Named by neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES.
        resource = resource.merge(Resource({"service.name": "cadenza"}))
    # Shut down by OtelTracer.shutdown, within a bound, not by the SDK's own unbounded atexit hook.
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return OtelTracer(provider)


def _exporter(env: Mapping[str, str]) -> SpanExporter:
    """gRPC, as Temporal's own server exports, unless the protocol variable says http/protobuf."""
    variable = next(
        (
            name
            for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
            if env.get(name)
        ),
        None,
    )
    protocol = env[variable].strip() if variable else "grpc"
    if protocol == "grpc":
        return GrpcSpanExporter()
    if protocol == "http/protobuf":
        return HttpSpanExporter()
    raise ConfigError(f"{variable}: {protocol!r} is not one of grpc, http/protobuf")
