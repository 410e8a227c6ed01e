"""The audit log's pure parts: which calls are audited, what a request names, durations and
filters as people write them, and the switches in the configuration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.update.v1 import Meta, Request
from temporalio.api.workflowservice.v1 import (
    CreateScheduleRequest,
    DescribeWorkflowExecutionRequest,
    ExecuteMultiOperationRequest,
    SignalWorkflowExecutionRequest,
    StartWorkflowExecutionRequest,
    UpdateWorkflowExecutionRequest,
)
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api.concurrency_calls import CONCURRENCY_SERVICE, SET, UNSET
from cadenza.api.saved_view_calls import DELETE_VIEW, SAVE_VIEW, SAVED_VIEW_SERVICE
from cadenza.audit.calls import MUTATING, OPERATOR_SERVICE, WORKFLOW_SERVICE, mutating_family
from cadenza.audit.query import filter_from
from cadenza.audit.subjects import Subject, subject_of
from cadenza.audit.times import parse_duration, parse_since
from cadenza.config import ConfigError, ServerConfig, from_env

SERVICES = {
    WORKFLOW_SERVICE: workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
    OPERATOR_SERVICE: operator_service_pb2.DESCRIPTOR.services_by_name["OperatorService"],
}


def test_every_audited_call_is_a_real_rpc_and_workers_calls_are_not_audited() -> None:
    own_calls = {CONCURRENCY_SERVICE: {SET, UNSET}, SAVED_VIEW_SERVICE: {SAVE_VIEW, DELETE_VIEW}}
    for service, method in MUTATING:
        if service in own_calls:  # Cadenza's own calls, served over HTTP
            assert method in own_calls[service], method
            continue
        assert method in SERVICES[service].methods_by_name, method
    for method in SERVICES[WORKFLOW_SERVICE].methods_by_name:
        if method.startswith(("Poll", "Respond", "RecordActivityTaskHeartbeat", "Describe", "List", "Get")):
            assert mutating_family(WORKFLOW_SERVICE, method) is None, method
    assert mutating_family(WORKFLOW_SERVICE, "TerminateWorkflowExecution") == "terminate"
    assert mutating_family(OPERATOR_SERVICE, "DeleteNamespace") == "namespace"


def test_a_request_names_its_namespace_workflow_run_schedule_request_and_identity() -> None:
    execution = WorkflowExecution(workflow_id="w", run_id="r")
    assert subject_of(
        StartWorkflowExecutionRequest(namespace="ns", workflow_id="w", request_id="q", identity="me")
    ) == Subject("ns", "w", "", "", "q", "me")
    assert subject_of(
        SignalWorkflowExecutionRequest(namespace="ns", workflow_execution=execution, request_id="q")
    ) == Subject("ns", "w", "r", "", "q", "")
    assert subject_of(DescribeWorkflowExecutionRequest(namespace="ns", execution=execution)) == Subject(
        "ns", "w", "r"
    )
    update = UpdateWorkflowExecutionRequest(
        namespace="ns", workflow_execution=execution, request=Request(meta=Meta(update_id="u", identity="me"))
    )
    assert subject_of(update) == Subject("ns", "w", "r", "", "u", "me")
    multi = ExecuteMultiOperationRequest(namespace="ns")
    multi.operations.add().start_workflow.CopyFrom(
        StartWorkflowExecutionRequest(workflow_id="w", request_id="q")
    )
    assert subject_of(multi) == Subject("ns", "w", "", "", "q", "")
    assert subject_of(CreateScheduleRequest(namespace="ns", schedule_id="s", identity="me")) == Subject(
        "ns", "", "", "s", "", "me"
    )
    assert len(subject_of(StartWorkflowExecutionRequest(workflow_id="w" * 5000)).workflow_id) == 1000


def test_durations_and_times_as_people_write_them() -> None:
    assert (
        parse_duration("30d") == 30 * 86400 and parse_duration("90s") == 90 and parse_duration("1.5h") == 5400
    )
    for bad in ("", "30", "d", "3x", "-1h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_since("1h", 10_000.0) == 6400.0
    assert parse_since("2026-12-03", 0) == datetime(2026, 12, 3, tzinfo=UTC).timestamp()
    assert parse_since("2026-12-03T10:00:00+01:00", 0) == datetime(2026, 12, 3, 9, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError, match="neither"):
        parse_since("last week", 0)


def test_a_query_becomes_a_filter_or_says_which_parameter_is_wrong() -> None:
    wanted = filter_from({"namespace": "ns", "principal": "alice", "since": "1m", "before": "7"}, 100.0)
    assert (wanted.namespace, wanted.principal, wanted.since, wanted.before_id, wanted.limit) == (
        "ns",
        "alice",
        40.0,
        7,
        100,
    )
    assert filter_from({"namespace": "other"}, 0, namespace="ns").namespace == "ns"
    assert filter_from({}, 0).namespace is None
    for bad, name in (({"limit": "5000"}, "limit"), ({"before": "-1"}, "before"), ({"since": "?"}, "since")):
        with pytest.raises(ValueError, match=name):
            filter_from(bad, 0)


def test_audit_follows_auth_unless_set_and_retention_must_be_a_duration() -> None:
    assert not ServerConfig().audit_on
    assert ServerConfig(audit=True).audit_on
    assert from_env({"CADENZA_AUDIT": "1"}).audit_on
    assert not from_env({"CADENZA_AUDIT": "off"}).audit_on
    assert from_env({"CADENZA_AUDIT_RETENTION": "12h"}).audit_retention_seconds == 43200
    with pytest.raises(ConfigError, match="audit-retention"):
        ServerConfig(audit_retention="forever")
    with pytest.raises(ConfigError, match="CADENZA_AUDIT"):
        from_env({"CADENZA_AUDIT": "maybe"})
