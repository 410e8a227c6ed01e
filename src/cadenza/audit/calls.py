"""Which calls the audit log records.

Every mutating call a client makes is recorded, whatever its outcome; so is
every call refused for its credentials (``UNAUTHENTICATED``) or its roles
(``PERMISSION_DENIED``), of any kind. Reads are not recorded, and neither is a
worker's traffic (polls, responses, heartbeats): it is the work itself, not an
act of someone on it.
"""

from __future__ import annotations

WORKFLOW_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
OPERATOR_SERVICE = "temporal.api.operatorservice.v1.OperatorService"
CONCURRENCY_SERVICE = "cadenza.concurrency.v1.ConcurrencyLimitService"
SAVED_VIEW_SERVICE = "cadenza.ui.v1.SavedViewService"

DENIED = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
"""Outcomes recorded for every call, mutating or not."""

_WORKFLOW_CALLS = {
    "StartWorkflowExecution": "start",
    "SignalWithStartWorkflowExecution": "signal-with-start",
    "ExecuteMultiOperation": "start",
    "SignalWorkflowExecution": "signal",
    "UpdateWorkflowExecution": "update",
    "RequestCancelWorkflowExecution": "cancel",
    "TerminateWorkflowExecution": "terminate",
    "ResetWorkflowExecution": "reset",
    "DeleteWorkflowExecution": "delete",
    "UpdateWorkflowExecutionOptions": "options",
    "PauseWorkflowExecution": "pause",
    "UnpauseWorkflowExecution": "pause",
    "PauseActivity": "activity",
    "UnpauseActivity": "activity",
    "ResetActivity": "activity",
    "UpdateActivityOptions": "activity",
    "CreateSchedule": "schedule",
    "UpdateSchedule": "schedule",
    "PatchSchedule": "schedule",
    "DeleteSchedule": "schedule",
    "StartActivityExecution": "start",
    "RequestCancelActivityExecution": "cancel",
    "TerminateActivityExecution": "terminate",
    "DeleteActivityExecution": "delete",
    "StartNexusOperationExecution": "start",
    "RequestCancelNexusOperationExecution": "cancel",
    "TerminateNexusOperationExecution": "terminate",
    "DeleteNexusOperationExecution": "delete",
    "StartBatchOperation": "batch",
    "StopBatchOperation": "batch",
    "RegisterNamespace": "namespace",
    "UpdateNamespace": "namespace",
    "DeprecateNamespace": "namespace",
    "UpdateWorkerBuildIdCompatibility": "versioning",
    "UpdateWorkerVersioningRules": "versioning",
    "SetWorkerDeploymentCurrentVersion": "deployment",
    "SetWorkerDeploymentRampingVersion": "deployment",
    "DeleteWorkerDeployment": "deployment",
    "DeleteWorkerDeploymentVersion": "deployment",
    "UpdateWorkerDeploymentVersionMetadata": "deployment",
}

_OPERATOR_CALLS = {
    "AddSearchAttributes": "search-attributes",
    "RemoveSearchAttributes": "search-attributes",
    "DeleteNamespace": "namespace",
    "CreateNexusEndpoint": "nexus-endpoint",
    "UpdateNexusEndpoint": "nexus-endpoint",
    "DeleteNexusEndpoint": "nexus-endpoint",
    "AddOrUpdateRemoteCluster": "cluster",
    "RemoveRemoteCluster": "cluster",
}

MUTATING: dict[tuple[str, str], str] = {
    **{(WORKFLOW_SERVICE, method): family for method, family in _WORKFLOW_CALLS.items()},
    **{(OPERATOR_SERVICE, method): family for method, family in _OPERATOR_CALLS.items()},
    (CONCURRENCY_SERVICE, "SetConcurrencyLimit"): "concurrency-limit",
    (CONCURRENCY_SERVICE, "UnsetConcurrencyLimit"): "concurrency-limit",
    (SAVED_VIEW_SERVICE, "SaveView"): "saved-view",
    (SAVED_VIEW_SERVICE, "DeleteView"): "saved-view",
}
"""Every audited call, by (service, method), with the family of change it makes."""


def mutating_family(service: str, method: str) -> str | None:
    """The kind of change ``method`` makes (``start``, ``terminate``...); None for a read or a
    worker's call, which are recorded only when refused."""
    return MUTATING.get((service, method))
