"""Namespace requests and replies, translated to and from the registry's records."""

from __future__ import annotations

from temporalio.api.enums.v1 import ArchivalState, NamespaceState
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceResponse,
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)

from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.namespaces import DEFAULT_RETENTION_SECONDS, NamespaceRegistry
from cadenza.persistence.records import NamespaceRecord
from cadenza.validation import cap_duration


async def register(registry: NamespaceRegistry, request: RegisterNamespaceRequest) -> None:
    """Register a namespace; like Temporal, only with a positive retention period."""
    period = request.workflow_execution_retention_period
    if period.seconds < 0 or period.nanos < 0 or ev.seconds(period) <= 0:
        raise InvalidArgumentError("A valid retention period is not set on request.")
    cap_duration(period, "WorkflowExecutionRetentionPeriod")
    retention = ev.seconds(period)
    await registry.register(
        request.namespace,
        description=request.description,
        owner_email=request.owner_email,
        retention_seconds=retention,
        data=dict(request.data),
    )


async def update(registry: NamespaceRegistry, request: UpdateNamespaceRequest) -> NamespaceRecord:
    """Apply the fields UpdateNamespace sets: description, owner, data, retention."""
    changes: dict[str, object] = {}
    info = request.update_info
    if info.description:
        changes["description"] = info.description
    if info.owner_email:
        changes["owner_email"] = info.owner_email
    if info.data:
        changes["data"] = dict(info.data)
    if request.config.HasField("workflow_execution_retention_ttl"):
        ttl = request.config.workflow_execution_retention_ttl
        cap_duration(ttl, "WorkflowExecutionRetentionTtl")
        retention = ev.seconds(ttl)
        if retention < 0:
            raise InvalidArgumentError("WorkflowExecutionRetentionPeriod must not be negative.")
        changes["retention_seconds"] = retention
    return await registry.update_info(request.namespace, changes)


def describe(record: NamespaceRecord, config: ServerConfig) -> DescribeNamespaceResponse:
    """The namespace as Temporal describes it, advertising only what Cadenza does."""
    info = record.info
    response = DescribeNamespaceResponse()
    ni = response.namespace_info
    ni.name = record.name
    ni.id = record.id
    ni.state = (
        NamespaceState.NAMESPACE_STATE_DEPRECATED
        if info.get("state") == "deprecated"
        else NamespaceState.NAMESPACE_STATE_REGISTERED
    )
    ni.description = str(info.get("description", ""))
    ni.owner_email = str(info.get("owner_email", ""))
    data = info.get("data") or {}
    assert isinstance(data, dict)
    ni.data.update({str(k): str(v) for k, v in data.items()})
    ni.capabilities.eager_workflow_start = True
    ni.capabilities.worker_poll_complete_on_shutdown = True
    ni.capabilities.sync_update = True
    ni.capabilities.async_update = True
    ni.capabilities.worker_commands = True
    ni.capabilities.worker_heartbeats = True
    ni.capabilities.workflow_pause = config.limits.workflow_pause_enabled
    ni.limits.blob_size_limit_error = config.limits.blob_size_error
    ni.limits.memo_size_limit_error = config.limits.memo_size_error
    retention = info.get("retention_seconds", DEFAULT_RETENTION_SECONDS)
    assert isinstance(retention, int | float)
    response.config.workflow_execution_retention_ttl.CopyFrom(ev.duration(float(retention)))
    response.config.bad_binaries.SetInParent()
    response.config.history_archival_state = ArchivalState.ARCHIVAL_STATE_DISABLED
    response.config.visibility_archival_state = ArchivalState.ARCHIVAL_STATE_DISABLED
    response.replication_config.active_cluster_name = "active"
    response.replication_config.clusters.add(cluster_name="active")
    return response
