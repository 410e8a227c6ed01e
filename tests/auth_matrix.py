"""The matrix of roles and RPC families, shared by the tests that run it with each kind of credential
(API keys, JWTs, client certificates): one RPC per family, and which families each role may call.

An allowed call reaches its handler and may fail there (NOT_FOUND for a run that does not
exist, INVALID_ARGUMENT for a task token that is not one): only a refusal counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf.message import Message
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.errordetails.v1 import PermissionDeniedFailure
from temporalio.api.operatorservice.v1 import DeleteNamespaceRequest
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    RespondWorkflowTaskCompletedRequest,
    SignalWorkflowExecutionRequest,
    TerminateWorkflowExecutionRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

CLUSTER_ADMIN = "cluster-admin"
DENIED = (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED)


def read(ns: str) -> tuple[str, Message]:
    return "count_workflow_executions", CountWorkflowExecutionsRequest(namespace=ns)


def work(ns: str) -> tuple[str, Message]:
    return "respond_workflow_task_completed", RespondWorkflowTaskCompletedRequest(
        namespace=ns, task_token=b"x"
    )


def write(ns: str) -> tuple[str, Message]:
    return "signal_workflow_execution", SignalWorkflowExecutionRequest(
        namespace=ns, workflow_execution=WorkflowExecution(workflow_id="absent"), signal_name="s"
    )


def operate(ns: str) -> tuple[str, Message]:
    return "terminate_workflow_execution", TerminateWorkflowExecutionRequest(
        namespace=ns, workflow_execution=WorkflowExecution(workflow_id="absent")
    )


def admin(ns: str) -> tuple[str, Message]:
    return "update_namespace", UpdateNamespaceRequest(namespace=ns)


def cluster(ns: str) -> tuple[str, Message]:
    return "delete_namespace", DeleteNamespaceRequest(namespace="no-such-namespace")


FAMILIES: dict[str, Callable[[str], tuple[str, Message]]] = {
    "read": read,
    "work": work,
    "write": write,
    "operate": operate,
    "admin": admin,
    "cluster": cluster,
}
NAMESPACE_FAMILIES = ("read", "work", "write", "operate", "admin")

ALLOWED: dict[str, set[str]] = {
    "reader": {"read"},
    "worker": {"work"},
    "writer": {"read", "write"},
    "operator": {"read", "write", "operate"},
    "admin": {"read", "work", "write", "operate", "admin"},
    CLUSTER_ADMIN: set(FAMILIES),
}
"""The families each role (and a cluster admin) may call on its namespace, as the permission
table says."""


async def refused(client: Client, family: str, namespace: str) -> RPCError | None:
    """The refusal of the family's RPC on ``namespace``, or None when it reached its handler."""
    method, request = FAMILIES[family](namespace)
    service = client.operator_service if family == "cluster" else client.workflow_service
    call: Callable[..., Awaitable[object]] = getattr(service, method)
    try:
        await call(request, retry=False)
    except RPCError as error:
        return error if error.status in DENIED else None
    return None


async def wrong_cells(client: Client, allowed: set[str], namespace: str) -> list[str]:
    """Each family whose answer is not what ``allowed`` says: allowed but refused, refused but
    not allowed, or refused otherwise than the real server's authorizer refuses."""
    wrong = []
    for family in FAMILIES:
        error = await refused(client, family, namespace)
        if (error is None) != (family in allowed):
            wrong.append(f"{family}: {'allowed' if error is None else error.status.name}")
        elif error is not None and not refused_as_temporal_refuses(error, family, namespace):
            wrong.append(f"{family}: refused with {error.status.name} {error.message!r}")
    return wrong


def refused_as_temporal_refuses(error: RPCError, family: str, namespace: str) -> bool:
    """PERMISSION_DENIED "Request unauthorized." with a detail naming the RPC refused."""
    if (error.status, error.message) != (RPCStatusCode.PERMISSION_DENIED, "Request unauthorized."):
        return False
    details = [PermissionDeniedFailure.FromString(detail.value) for detail in error.grpc_status.details]
    method = FAMILIES[family](namespace)[0].replace("_", "")
    return bool(details) and method in details[0].reason.lower()
