"""What each RPC needs, in one table, and what each role grants.

Every RPC of WorkflowService and OperatorService is a row of ``RULES``: either a
permission on the namespace its request names (read, work, write, operate,
admin), or a need that does not depend on a namespace (``Open``: anyone, even
without credentials, as the real server leaves GetSystemInfo and health open so
an SDK can connect; ``Authenticated``: any proven caller, for the cluster's
public facts; ``ClusterAdmin``: the cluster's administrators only). A unit test
fails when an RPC of either service has no row, so a new RPC is never let
through by omission.

Roles grant permissions on a namespace: a reader reads; a worker works (polls
and answers tasks) and makes the few reads a worker process makes (describing
its namespace, paging a workflow's history); a writer reads and writes; an
operator also operates; an admin may do everything on its namespace. A cluster
admin may do everything everywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cadenza.auth.principal import ANY_NAMESPACE, Principal, PrincipalKind, Role


class Permission(enum.StrEnum):
    """What an RPC on a namespace needs of its caller."""

    READ = "read"
    """Describe, list, count, history, query: nothing changes."""
    WORK = "work"
    """Poll for tasks and answer them, heartbeat: what a worker process does."""
    WRITE = "write"
    """Start, signal, update, cancel: what an application does to its workflows."""
    OPERATE = "operate"
    """Terminate, reset, delete, pause; schedules, batches, deployments: what an operator does."""
    ADMIN = "admin"
    """Change the namespace itself and its search attributes."""


class Global(enum.StrEnum):
    """What an RPC not about one namespace needs."""

    OPEN = "open"
    """Nothing: answered even without credentials."""
    AUTHENTICATED = "authenticated"
    """Any proven caller (ListNamespaces then shows only the namespaces it may read)."""
    CLUSTER_ADMIN = "cluster-admin"
    """A cluster administrator."""


@dataclass(frozen=True)
class Rule:
    """One RPC's row: a permission on the request's namespace, or a global need."""

    need: Permission | Global
    worker_reads: bool = False
    """A read a worker process makes, so the worker role may make it too."""

    @property
    def on_namespace(self) -> bool:
        return isinstance(self.need, Permission)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READER: frozenset({Permission.READ}),
    Role.WORKER: frozenset({Permission.WORK}),
    Role.WRITER: frozenset({Permission.READ, Permission.WRITE}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE, Permission.OPERATE}),
    Role.ADMIN: frozenset(Permission),
}
"""The permissions each role grants on its namespace."""

_OPEN = Rule(Global.OPEN)
_ANYONE = Rule(Global.AUTHENTICATED)
_CLUSTER = Rule(Global.CLUSTER_ADMIN)
_READ = Rule(Permission.READ)
_WORKER_READ = Rule(Permission.READ, worker_reads=True)
_WORK = Rule(Permission.WORK)
_WRITE = Rule(Permission.WRITE)
_OPERATE = Rule(Permission.OPERATE)
_ADMIN = Rule(Permission.ADMIN)


def _rows(rule: Rule, *methods: str) -> dict[str, Rule]:
    return dict.fromkeys(methods, rule)


WORKFLOW_SERVICE_RULES: dict[str, Rule] = {
    **_rows(_OPEN, "GetSystemInfo"),
    **_rows(_ANYONE, "ListNamespaces", "GetClusterInfo", "GetSearchAttributes"),
    **_rows(_CLUSTER, "RegisterNamespace"),
    **_rows(_WORKER_READ, "DescribeNamespace", "GetWorkflowExecutionHistory"),
    **_rows(
        _READ,
        "GetWorkflowExecutionHistoryReverse",
        "ListOpenWorkflowExecutions",
        "ListClosedWorkflowExecutions",
        "ListWorkflowExecutions",
        "ListArchivedWorkflowExecutions",
        "ScanWorkflowExecutions",
        "CountWorkflowExecutions",
        "QueryWorkflow",
        "DescribeWorkflowExecution",
        "DescribeTaskQueue",
        "ListTaskQueuePartitions",
        "DescribeSchedule",
        "ListScheduleMatchingTimes",
        "ListSchedules",
        "CountSchedules",
        "GetWorkerBuildIdCompatibility",
        "GetWorkerVersioningRules",
        "GetWorkerTaskReachability",
        "DescribeDeployment",
        "DescribeWorkerDeploymentVersion",
        "ListDeployments",
        "GetDeploymentReachability",
        "GetCurrentDeployment",
        "DescribeWorkerDeployment",
        "ListWorkerDeployments",
        "PollWorkflowExecutionUpdate",
        "DescribeBatchOperation",
        "ListBatchOperations",
        "DescribeWorkflowRule",
        "ListWorkflowRules",
        "ListWorkers",
        "CountWorkers",
        "DescribeWorker",
        "FetchWorkerConfig",
        "DescribeActivityExecution",
        "DescribeNexusOperationExecution",
        "PollActivityExecution",
        "PollNexusOperationExecution",
        "ListActivityExecutions",
        "ListNexusOperationExecutions",
        "CountActivityExecutions",
        "CountNexusOperationExecutions",
        "PollWorkflowExecutionTimeSkipping",
    ),
    **_rows(
        _WORK,
        "PollWorkflowTaskQueue",
        "RespondWorkflowTaskCompleted",
        "RespondWorkflowTaskFailed",
        "PollActivityTaskQueue",
        "RecordActivityTaskHeartbeat",
        "RecordActivityTaskHeartbeatById",
        "RespondActivityTaskCompleted",
        "RespondActivityTaskCompletedById",
        "RespondActivityTaskFailed",
        "RespondActivityTaskFailedById",
        "RespondActivityTaskCanceled",
        "RespondActivityTaskCanceledById",
        "RespondQueryTaskCompleted",
        "ResetStickyTaskQueue",
        "ShutdownWorker",
        "PollNexusTaskQueue",
        "RespondNexusTaskCompleted",
        "RespondNexusTaskFailed",
        "RecordWorkerHeartbeat",
    ),
    **_rows(
        _WRITE,
        "StartWorkflowExecution",
        "ExecuteMultiOperation",
        "RequestCancelWorkflowExecution",
        "SignalWorkflowExecution",
        "SignalWithStartWorkflowExecution",
        "UpdateWorkflowExecution",
        "StartActivityExecution",
        "StartNexusOperationExecution",
        "RequestCancelActivityExecution",
        "RequestCancelNexusOperationExecution",
    ),
    **_rows(
        _OPERATE,
        "ResetWorkflowExecution",
        "TerminateWorkflowExecution",
        "DeleteWorkflowExecution",
        "PauseWorkflowExecution",
        "UnpauseWorkflowExecution",
        "UpdateWorkflowExecutionOptions",
        "CreateSchedule",
        "UpdateSchedule",
        "PatchSchedule",
        "DeleteSchedule",
        "StartBatchOperation",
        "StopBatchOperation",
        "UpdateActivityOptions",
        "PauseActivity",
        "UnpauseActivity",
        "ResetActivity",
        "TerminateActivityExecution",
        "DeleteActivityExecution",
        "PauseActivityExecution",
        "ResetActivityExecution",
        "UnpauseActivityExecution",
        "UpdateActivityExecutionOptions",
        "TerminateNexusOperationExecution",
        "DeleteNexusOperationExecution",
        "TriggerWorkflowRule",
        "UpdateWorkerBuildIdCompatibility",
        "UpdateWorkerVersioningRules",
        "SetCurrentDeployment",
        "SetWorkerDeploymentCurrentVersion",
        "DeleteWorkerDeployment",
        "DeleteWorkerDeploymentVersion",
        "SetWorkerDeploymentRampingVersion",
        "CreateWorkerDeployment",
        "CreateWorkerDeploymentVersion",
        "UpdateWorkerDeploymentVersionComputeConfig",
        "ValidateWorkerDeploymentVersionComputeConfig",
        "UpdateWorkerDeploymentVersionMetadata",
        "SetWorkerDeploymentManager",
        "UpdateTaskQueueConfig",
        "UpdateWorkerConfig",
    ),
    **_rows(_ADMIN, "UpdateNamespace", "DeprecateNamespace", "CreateWorkflowRule", "DeleteWorkflowRule"),
}

OPERATOR_SERVICE_RULES: dict[str, Rule] = {
    **_rows(_READ, "ListSearchAttributes"),
    **_rows(_ADMIN, "AddSearchAttributes", "RemoveSearchAttributes"),
    **_rows(
        _CLUSTER,
        "DeleteNamespace",
        "AddOrUpdateRemoteCluster",
        "RemoveRemoteCluster",
        "GetNexusEndpoint",
        "CreateNexusEndpoint",
        "UpdateNexusEndpoint",
        "DeleteNexusEndpoint",
        "ListNexusEndpoints",
    ),
    **_rows(_ANYONE, "ListClusters"),
}

CONCURRENCY_SERVICE_RULES: dict[str, Rule] = {
    **_rows(_READ, "ListConcurrencyLimits"),
    **_rows(_ADMIN, "SetConcurrencyLimit", "UnsetConcurrencyLimit"),
}
"""Cadenza's own calls on a namespace's concurrency limits (``cadenza.api.concurrency_calls``):
a limit throttles the whole namespace's work, so only its admins set one."""

AUDIT_SERVICE_RULES: dict[str, Rule] = _rows(_CLUSTER, "ListAuditRecords")
"""Cadenza's own call reading the audit log (``cadenza.api.audit_calls``): the log names every
namespace's callers and what they were refused, so only cluster admins read it."""

SAVED_VIEW_SERVICE_RULES: dict[str, Rule] = _rows(_WRITE, "SaveView", "DeleteView")
"""Saving and deleting the web UI's saved views (``cadenza.api.saved_view_calls``): a view is
shared by everyone on its namespace, so changing one is a change, not a read."""

RULES: dict[str, dict[str, Rule]] = {
    "temporal.api.workflowservice.v1.WorkflowService": WORKFLOW_SERVICE_RULES,
    "temporal.api.operatorservice.v1.OperatorService": OPERATOR_SERVICE_RULES,
    "cadenza.concurrency.v1.ConcurrencyLimitService": CONCURRENCY_SERVICE_RULES,
    "cadenza.audit.v1.AuditService": AUDIT_SERVICE_RULES,
    "cadenza.ui.v1.SavedViewService": SAVED_VIEW_SERVICE_RULES,
}
"""Each RPC's rule, by full service name, then method name."""

DENY_UNKNOWN = _CLUSTER
"""The rule of an RPC the table does not name: only a cluster admin (the test keeps it unused)."""


def rule_of(service: str, method: str) -> Rule:
    """The rule ``method`` of ``service`` is checked against."""
    return RULES.get(service, {}).get(method, DENY_UNKNOWN)


def permissions_on(principal: Principal, namespace: str) -> frozenset[Permission]:
    """Every permission ``principal`` holds on ``namespace``."""
    if principal.cluster_admin:
        return frozenset(Permission)
    granted: set[Permission] = set()
    for role in principal.roles_on(namespace):
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def allows(principal: Principal, rule: Rule, namespace: str) -> bool:
    """Whether ``principal`` may make a call checked against ``rule`` on ``namespace``."""
    if principal.cluster_admin:
        return True
    if rule.need is Global.OPEN:
        return True
    if rule.need is Global.AUTHENTICATED:
        return principal.kind is not PrincipalKind.ANONYMOUS
    if rule.need is Global.CLUSTER_ADMIN:
        return False
    if rule.need in permissions_on(principal, namespace):
        return True
    return rule.worker_reads and Role.WORKER in principal.roles_on(namespace)


def may_read(principal: Principal, namespace: str) -> bool:
    """Whether ``principal`` may see ``namespace`` at all (ListNamespaces shows only these)."""
    return principal.cluster_admin or bool(principal.roles_on(namespace))


def may_manage_keys(principal: Principal, namespace: str) -> bool:
    """Whether ``principal`` may list, create and revoke the API keys of ``namespace``: its
    admins may; keys on every namespace (``*``) are the cluster admins' alone."""
    if principal.cluster_admin:
        return True
    return namespace != ANY_NAMESPACE and Role.ADMIN in principal.roles_on(namespace)


class HttpAccess(enum.StrEnum):
    """What a route of the HTTP port that is not itself an RPC needs."""

    OPEN = "open"
    """Nothing: probes and scrapers reach it without credentials."""
    PER_RPC = "per-rpc"
    """Each RPC the route makes is checked against its rule, with the caller's credentials:
    a page needs what its reads need, an action what its RPC needs."""


HTTP_ROUTES: dict[str, HttpAccess] = {
    "/healthz": HttpAccess.OPEN,
    "/readyz": HttpAccess.OPEN,
    "/metrics": HttpAccess.OPEN,
    "/static": HttpAccess.OPEN,
    "/login": HttpAccess.OPEN,
    "/logout": HttpAccess.OPEN,
    "/api": HttpAccess.PER_RPC,
    # /api/v1/cadenza/auth/keys is checked by cadenza.web.auth_keys: admins of the key's namespace.
    "/": HttpAccess.PER_RPC,
    "/namespaces": HttpAccess.PER_RPC,
}
"""Each route of the HTTP port by its first path segment (``/`` the home page alone): the
UI's pages and actions and Temporal's HTTP API run their RPCs through the same check as gRPC."""


def http_access(path: str) -> HttpAccess:
    """The access ``path`` needs; a path the table does not name is checked per RPC."""
    first = "/" + path.lstrip("/").split("/", 1)[0]
    return HTTP_ROUTES.get(first, HttpAccess.PER_RPC)
