"""Temporal's HTTP routes, read from the services' annotations, and the binding of path and query
values to request fields."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.operatorservice.v1 import request_response_pb2 as opv1
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.web.temporal_api.binding import BindingError, bind_path, bind_query, go_duration
from cadenza.web.temporal_api.routes import RouteTable, Variable, all_routes, parse_template

TABLE = RouteTable(all_routes())


def rpc_of(method: str, path: str) -> str | None:
    found = TABLE.find(method, path)
    return None if found is None else found[0].rpc.name


def test_every_annotated_binding_is_a_route() -> None:
    routes = all_routes()
    api_v1 = {(r.http_method, r.rpc.name) for r in routes if r.segments[:2] == ("api", "v1")}
    assert ("POST", "StartWorkflowExecution") in api_v1
    assert ("GET", "ListSearchAttributes") in api_v1  # OperatorService too
    assert ("DELETE", "DeleteSchedule") in api_v1
    # Additional bindings: the heartbeat by ID with and without the workflow in the path.
    heartbeat = [r for r in routes if r.rpc.name == "RecordActivityTaskHeartbeatById"]
    assert len(heartbeat) == 4


def test_paths_find_their_rpc_and_variables() -> None:
    found = TABLE.find("GET", "/api/v1/namespaces/default/workflows/wf-1/history")
    assert found is not None
    route, variables = found
    assert route.rpc.name == "GetWorkflowExecutionHistory"
    assert variables == {"namespace": "default", "execution.workflow_id": "wf-1"}
    assert rpc_of("POST", "/api/v1/namespaces/default/workflows/wf-1") == "StartWorkflowExecution"
    assert rpc_of("GET", "/api/v1/namespaces/default/workflows/wf-1") == "DescribeWorkflowExecution"
    assert rpc_of("POST", "/api/v1/namespaces/ns/workflows/w/signal/go") == "SignalWorkflowExecution"
    assert rpc_of("GET", "/api/v1/namespaces") == "ListNamespaces"
    assert rpc_of("GET", "/api/v1/namespaces/ns/search-attributes") == "ListSearchAttributes"


def test_a_path_under_another_method_is_told_apart_from_an_unknown_one() -> None:
    assert TABLE.find("DELETE", "/api/v1/namespaces/default/workflows/wf-1") is None
    assert TABLE.other_methods_serve("DELETE", "/api/v1/namespaces/default/workflows/wf-1")
    assert not TABLE.other_methods_serve("GET", "/api/v1/nothing-here")


def test_templates_parse_into_literals_and_variables() -> None:
    assert parse_template("/api/v1/namespaces/{namespace}/workflows/{execution.workflow_id}") == (
        "api",
        "v1",
        "namespaces",
        Variable("namespace"),
        "workflows",
        Variable("execution.workflow_id"),
    )
    assert parse_template("/v1/{name=**}") is None
    assert parse_template("/v1/things:batch") is None


def test_path_variables_set_nested_fields() -> None:
    request = wsv1.QueryWorkflowRequest()
    bind_path(request, "execution.workflow_id", "wf 1")
    bind_path(request, "query.query_type", "state")
    assert request.execution.workflow_id == "wf 1"
    assert request.query.query_type == "state"


def test_query_parameters_by_proto_or_json_name() -> None:
    request = wsv1.DescribeWorkflowExecutionRequest()
    bind_query(request, [("execution.runId", "r1"), ("pretty", ""), ("namespace", "x")], skip=["namespace"])
    assert request.execution.run_id == "r1"
    assert request.namespace == ""  # a path variable's field is not taken from the query


def test_query_values_are_parsed_by_field_type() -> None:
    request = wsv1.ListWorkflowExecutionsRequest()
    bind_query(request, [("pageSize", "5"), ("nextPageToken", "AAE="), ("query", "WorkflowType='x'")])
    assert (request.page_size, request.next_page_token, request.query) == (5, b"\x00\x01", "WorkflowType='x'")
    history = wsv1.GetWorkflowExecutionHistoryRequest()
    bind_query(
        history,
        [("waitNewEvent", "true"), ("historyEventFilterType", "HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT")],
    )
    assert history.wait_new_event and history.history_event_filter_type == 2
    listing = opv1.ListSearchAttributesRequest()
    bind_query(listing, [("namespace", "n")])
    assert listing.namespace == "n"


def test_repeated_fields_take_every_value_and_others_only_one() -> None:
    request = wsv1.CountWorkflowExecutionsRequest()
    with pytest.raises(BindingError, match="too many values"):
        bind_query(request, [("query", "a"), ("query", "b")])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("pageSize", "five", "invalid syntax"),
        ("pageSize", "99999999999", "out of range"),
        ("nextPageToken", "!!", "base64"),
    ],
)
def test_bad_query_values_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(BindingError, match=message):
        bind_query(wsv1.ListWorkflowExecutionsRequest(), [(name, value)])


def test_enums_by_name_or_defined_number() -> None:
    request = wsv1.ListClosedWorkflowExecutionsRequest()
    bind_query(request, [("statusFilter.status", "2")])
    assert request.status_filter.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
    with pytest.raises(BindingError, match="not a valid value"):
        bind_query(wsv1.ListClosedWorkflowExecutionsRequest(), [("statusFilter.status", "99")])


def test_go_durations() -> None:
    assert go_duration("1m30s") == 90
    assert go_duration("1.5h") == 5400
    assert go_duration("300ms") == pytest.approx(0.3)
    assert go_duration("0") == 0
    with pytest.raises(BindingError):
        go_duration("10")
