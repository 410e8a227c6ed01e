"""The permission table: every RPC of both services classified, and what each role may do."""

from __future__ import annotations

import pytest
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api import audit_calls, concurrency_calls, saved_view_calls
from cadenza.auth.permissions import (
    DENY_UNKNOWN,
    RULES,
    Global,
    HttpAccess,
    Permission,
    allows,
    http_access,
    may_manage_keys,
    may_read,
    rule_of,
)
from cadenza.auth.principal import ANONYMOUS, ANY_NAMESPACE, Principal, PrincipalKind, Role

SERVICES = [
    workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
    operator_service_pb2.DESCRIPTOR.services_by_name["OperatorService"],
]
WORKFLOW = "temporal.api.workflowservice.v1.WorkflowService"
OPERATOR = "temporal.api.operatorservice.v1.OperatorService"


def key_with(role: Role, namespace: str = "orders") -> Principal:
    return Principal(PrincipalKind.API_KEY, f"{role}-key", {namespace: frozenset({role})})


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_rpc_of_both_services_is_classified(service: object) -> None:
    rows = RULES[service.full_name]  # type: ignore[attr-defined]
    methods = {method.name for method in service.methods}  # type: ignore[attr-defined]
    assert sorted(methods - rows.keys()) == [], "RPCs without a rule"
    assert sorted(rows.keys() - methods) == [], "rules for RPCs the service does not have"


def test_cadenzas_own_calls_are_classified_by_name_not_by_the_fallback() -> None:
    own = {
        audit_calls.AUDIT_SERVICE: {audit_calls.LIST_AUDIT_RECORDS},
        concurrency_calls.CONCURRENCY_SERVICE: {
            concurrency_calls.LIST,
            concurrency_calls.SET,
            concurrency_calls.UNSET,
        },
        saved_view_calls.SAVED_VIEW_SERVICE: {saved_view_calls.SAVE_VIEW, saved_view_calls.DELETE_VIEW},
    }
    for service, methods in own.items():
        assert sorted(RULES.get(service, {}).keys()) == sorted(methods), service
    assert rule_of(audit_calls.AUDIT_SERVICE, audit_calls.LIST_AUDIT_RECORDS).need is Global.CLUSTER_ADMIN
    assert rule_of(concurrency_calls.CONCURRENCY_SERVICE, concurrency_calls.SET).need is Permission.ADMIN
    assert rule_of(saved_view_calls.SAVED_VIEW_SERVICE, saved_view_calls.SAVE_VIEW).need is Permission.WRITE
    assert DENY_UNKNOWN.need is Global.CLUSTER_ADMIN


def test_namespace_rules_are_for_requests_that_name_a_namespace() -> None:
    for service in SERVICES:
        for method in service.methods:
            if rule_of(service.full_name, method.name).on_namespace:
                assert "namespace" in method.input_type.fields_by_name, method.name


def test_the_real_servers_open_and_read_only_rpcs_are_classified_alike() -> None:
    assert rule_of(WORKFLOW, "GetSystemInfo").need is Global.OPEN
    for method in (
        "DescribeNamespace",
        "GetWorkflowExecutionHistory",
        "ListWorkflowExecutions",
        "QueryWorkflow",
    ):
        assert rule_of(WORKFLOW, method).need is Permission.READ
    assert rule_of(WORKFLOW, "ListNamespaces").need is Global.AUTHENTICATED


CASES = [
    ("DescribeWorkflowExecution", {Role.READER, Role.WRITER, Role.OPERATOR, Role.ADMIN}),
    ("DescribeNamespace", {Role.READER, Role.WORKER, Role.WRITER, Role.OPERATOR, Role.ADMIN}),
    ("PollWorkflowTaskQueue", {Role.WORKER, Role.ADMIN}),
    ("StartWorkflowExecution", {Role.WRITER, Role.OPERATOR, Role.ADMIN}),
    ("TerminateWorkflowExecution", {Role.OPERATOR, Role.ADMIN}),
    ("UpdateNamespace", {Role.ADMIN}),
    ("RegisterNamespace", set()),
]


@pytest.mark.parametrize(("method", "allowed"), CASES)
def test_each_role_may_make_the_calls_its_permissions_cover(method: str, allowed: set[Role]) -> None:
    rule = rule_of(WORKFLOW, method)
    for role in Role:
        assert allows(key_with(role), rule, "orders") == (role in allowed), role
        assert not allows(key_with(role), rule, "billing") or not rule.on_namespace


def test_a_cluster_admin_may_do_everything_and_anonymous_only_what_is_open() -> None:
    admin = Principal(PrincipalKind.API_KEY, "root", cluster_admin=True)
    for service in SERVICES:
        for method in service.methods:
            rule = rule_of(service.full_name, method.name)
            assert allows(admin, rule, "any")
            assert allows(ANONYMOUS, rule, "any") == (rule.need is Global.OPEN)


def test_roles_on_every_namespace_apply_to_each() -> None:
    everywhere = Principal(PrincipalKind.API_KEY, "reader", {ANY_NAMESPACE: frozenset({Role.READER})})
    assert allows(everywhere, rule_of(WORKFLOW, "ListWorkflowExecutions"), "billing")
    assert may_read(everywhere, "billing")
    assert not may_read(key_with(Role.READER), "billing")
    assert rule_of(OPERATOR, "DeleteNamespace").need is Global.CLUSTER_ADMIN


def test_http_routes_that_are_not_rpcs_are_classified() -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/static/ui.css"):
        assert http_access(path) is HttpAccess.OPEN
    for path in ("/", "/namespaces/default/workflows", "/api/v1/namespaces"):
        assert http_access(path) is HttpAccess.PER_RPC


def test_a_namespaces_admins_manage_its_keys_and_only_cluster_admins_the_others() -> None:
    root = Principal(PrincipalKind.API_KEY, "root", cluster_admin=True)
    everywhere = Principal(PrincipalKind.API_KEY, "all", {ANY_NAMESPACE: frozenset({Role.ADMIN})})
    assert may_manage_keys(key_with(Role.ADMIN), "orders")
    assert not may_manage_keys(key_with(Role.OPERATOR), "orders")
    assert not may_manage_keys(key_with(Role.ADMIN), "billing")
    assert may_manage_keys(everywhere, "billing") and not may_manage_keys(everywhere, ANY_NAMESPACE)
    assert may_manage_keys(root, ANY_NAMESPACE)
