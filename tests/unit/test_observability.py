"""Each request's scope (the fields its log lines carry), the text and JSON log formats, and
the trace context read from a request's Temporal header or a call's metadata."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.config import ConfigError
from cadenza.history.machine.tokens import TaskToken
from cadenza.observability import hooks
from cadenza.observability.logs import JsonFormatter, RequestContextFilter, TextFormatter
from cadenza.observability.otel import caller_context, header_carrier
from cadenza.observability.scope import RequestScope, current, subject

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
EXECUTION = WorkflowExecution(workflow_id="wf", run_id="run")


@pytest.mark.parametrize(
    ("request_message", "expected"),
    [
        (
            wsv1.StartWorkflowExecutionRequest(namespace="ns", workflow_id="wf"),
            {"namespace": "ns", "workflow_id": "wf"},
        ),
        (
            wsv1.SignalWorkflowExecutionRequest(namespace="ns", workflow_execution=EXECUTION),
            {"namespace": "ns", "workflow_id": "wf", "run_id": "run"},
        ),
        (
            wsv1.GetWorkflowExecutionHistoryRequest(namespace="ns", execution=EXECUTION),
            {"namespace": "ns", "workflow_id": "wf", "run_id": "run"},
        ),
        (
            wsv1.RespondActivityTaskCompletedByIdRequest(namespace="ns", workflow_id="wf", run_id="run"),
            {"namespace": "ns", "workflow_id": "wf", "run_id": "run"},
        ),
        (
            wsv1.RespondActivityTaskCompletedRequest(
                namespace="ns", task_token=TaskToken("ns-id", "wf", "run", 5, 1).encode()
            ),
            {"namespace": "ns", "workflow_id": "wf", "run_id": "run"},
        ),
        (
            wsv1.RespondWorkflowTaskCompletedRequest(namespace="ns", task_token=b"not a token"),
            {"namespace": "ns"},
        ),
        (
            wsv1.RespondWorkflowTaskCompletedRequest(namespace="ns", task_token=b"[" * 100_000),
            {"namespace": "ns"},
        ),
        (wsv1.DescribeNamespaceRequest(namespace="ns"), {"namespace": "ns"}),
        (b"undecoded", {}),
    ],
)
def test_a_requests_subject_is_read_from_where_its_family_names_it(
    request_message: object, expected: dict[str, str]
) -> None:
    assert subject(request_message) == expected


def test_each_request_has_one_id_of_its_own_and_a_poll_names_the_run_it_hands_over() -> None:
    poll = RequestScope("PollWorkflowTaskQueue", wsv1.PollWorkflowTaskQueueRequest(namespace="ns"))
    other = RequestScope("PollWorkflowTaskQueue", wsv1.PollWorkflowTaskQueueRequest(namespace="ns"))
    request_id = poll.fields()["request_id"]
    assert poll.fields()["request_id"] == request_id != other.fields()["request_id"]
    assert "workflow_id" not in poll.fields()
    poll.names_run("wf", "run")
    assert poll.fields() == {
        "rpc": "PollWorkflowTaskQueue",
        "request_id": request_id,
        "namespace": "ns",
        "workflow_id": "wf",
        "run_id": "run",
    }


@pytest.fixture
def log_output() -> Iterator[tuple[logging.Logger, logging.StreamHandler[io.StringIO]]]:
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("cadenza.test_observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)


def log_in_request(logger: logging.Logger, **extra: object) -> str:
    """Log one line while serving a signal to ``wf``, and return the request's ID."""
    scope = RequestScope(
        "SignalWorkflowExecution",
        wsv1.SignalWorkflowExecutionRequest(namespace="default", workflow_execution=EXECUTION),
    )
    token = current.set(scope)
    try:
        logger.warning("payload of %d bytes", 300, extra=extra)
    finally:
        current.reset(token)
    return scope.fields()["request_id"]


def test_a_text_line_shows_the_requests_fields_before_its_message(
    log_output: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = log_output
    handler.setFormatter(TextFormatter())
    request_id = log_in_request(logger)
    logger.info("after the request")
    first, second = handler.stream.getvalue().splitlines()
    assert first.endswith(
        " WARNING cadenza.test_observability [rpc=SignalWorkflowExecution "
        f"request_id={request_id} namespace=default workflow_id=wf run_id=run]: payload of 300 bytes"
    )
    assert second.endswith(" INFO cadenza.test_observability: after the request")


def test_a_text_line_quotes_a_field_that_would_blur_the_brackets(
    log_output: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = log_output
    handler.setFormatter(TextFormatter())
    log_in_request(logger, workflow_id="a child] x=1")
    assert 'workflow_id="a child] x=1" run_id=run]' in handler.stream.getvalue()


def test_a_json_line_is_one_object_with_the_requests_fields_and_the_records_own(
    log_output: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = log_output
    handler.setFormatter(JsonFormatter())
    request_id = log_in_request(logger, workflow_id="child", task_queue="q")
    [line] = handler.stream.getvalue().splitlines()
    record = json.loads(line)
    assert list(record)[:4] == ["time", "level", "logger", "message"]
    assert record["time"].endswith("+00:00")
    assert {key: value for key, value in record.items() if key != "time"} == {
        "level": "WARNING",
        "logger": "cadenza.test_observability",
        "message": "payload of 300 bytes",
        "rpc": "SignalWorkflowExecution",
        "request_id": request_id,
        "namespace": "default",
        "workflow_id": "child",  # the record's own field wins
        "run_id": "run",
        "task_queue": "q",
    }


def tracer_data(carrier: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=carrier)


def test_the_sdk_interceptors_header_entry_is_read_as_the_callers_context() -> None:
    request = wsv1.StartWorkflowExecutionRequest(workflow_id="wf")
    request.header.fields["_tracer-data"].CopyFrom(
        tracer_data(f'{{"traceparent": "{TRACEPARENT}"}}'.encode())
    )
    assert header_carrier(request) == {"traceparent": TRACEPARENT}
    parent = trace.get_current_span(caller_context(request, None)).get_span_context()
    assert (parent.trace_id, parent.span_id) == (0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7)


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"traceparent": 7}', b'{"traceparent": "00-zz"}'])
def test_a_header_entry_that_is_no_trace_context_is_ignored(data: bytes) -> None:
    request = wsv1.SignalWorkflowExecutionRequest(workflow_execution=EXECUTION)
    request.header.fields["_tracer-data"].CopyFrom(tracer_data(data))
    assert not trace.get_current_span(caller_context(request, None)).get_span_context().is_valid


class Metadata:
    """The one part of a gRPC context the tracer reads."""

    def __init__(self, *pairs: tuple[str, str | bytes]) -> None:
        self.pairs = pairs

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self.pairs


def test_the_calls_traceparent_metadata_comes_before_the_header() -> None:
    request = wsv1.StartWorkflowExecutionRequest(workflow_id="wf")
    request.header.fields["_tracer-data"].CopyFrom(
        tracer_data(f'{{"traceparent": "{TRACEPARENT}"}}'.encode())
    )
    own = "00-11111111111111111111111111111111-2222222222222222-01"
    parent = trace.get_current_span(caller_context(request, Metadata(("traceparent", own))))
    assert parent.get_span_context().trace_id == 0x11111111111111111111111111111111


def test_tracing_is_off_without_an_endpoint_and_refused_when_disabled() -> None:
    assert hooks.tracer_from_env({}) is None
    assert (
        hooks.tracer_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317", "OTEL_SDK_DISABLED": "true"})
        is None
    )


def test_an_unknown_otlp_protocol_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier pigeon'"):
        hooks.tracer_from_env(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier pigeon",
            }
        )


def test_a_server_without_tracing_never_imports_opentelemetry() -> None:
    program = (
        "import os, sys; import cadenza.cli.main, cadenza.server; "
        "from cadenza.observability import hooks; assert hooks.tracer_from_env(os.environ) is None; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    shown = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env
    )
    assert shown.stdout.strip() == "[]"
