"""The cluster and namespace RPCs."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza import __version__
from cadenza.api import namespaces as ns_api
from cadenza.api.errors import translated
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.backends import backend_name

# The client versions Temporal's server says it works with; Cadenza serves the same API.
SUPPORTED_CLIENTS = {
    name: "<2.0.0"
    for name in (
        "temporal-go",
        "temporal-java",
        "temporal-typescript",
        "temporal-php",
        "temporal-cli",
        "temporal-server",
        "Nexus-go-sdk",
    )
} | {"temporal-ui": "<3.0.0"}


class NamespaceRpcs:
    """The cluster and namespace RPCs."""

    def __init__(self, *, config: ServerConfig, namespaces: NamespaceRegistry) -> None:
        self._config = config
        self._namespaces = namespaces
        self._cluster_id = str(uuid.uuid4())

    @translated
    async def GetSystemInfo(self, request: Any, context: Any) -> wsv1.GetSystemInfoResponse:
        response = wsv1.GetSystemInfoResponse(server_version=__version__)
        caps = response.capabilities
        caps.signal_and_query_header = True
        caps.internal_error_differentiation = True
        caps.encoded_failure_attributes = True
        caps.sdk_metadata = True
        caps.activity_failure_include_heartbeat = True
        caps.upsert_memo = True
        caps.eager_workflow_start = True
        caps.count_group_by_execution_status = True
        caps.supports_schedules = True
        caps.nexus = True  # endpoints and operations called from workflows
        return response

    @translated
    async def GetClusterInfo(self, request: Any, context: Any) -> wsv1.GetClusterInfoResponse:
        return wsv1.GetClusterInfoResponse(
            supported_clients=SUPPORTED_CLIENTS,
            server_version=__version__,
            cluster_id=self._cluster_id,
            cluster_name="active",
            history_shard_count=1,
            persistence_store=backend_name(self._config.db),
            visibility_store=backend_name(self._config.db),
            initial_failover_version=1,
            failover_version_increment=10,
        )

    @translated
    async def RegisterNamespace(
        self, request: wsv1.RegisterNamespaceRequest, context: Any
    ) -> wsv1.RegisterNamespaceResponse:
        await ns_api.register(self._namespaces, request)
        return wsv1.RegisterNamespaceResponse()

    @translated
    async def DescribeNamespace(
        self, request: wsv1.DescribeNamespaceRequest, context: Any
    ) -> wsv1.DescribeNamespaceResponse:
        if not request.namespace and not request.id:
            raise InvalidArgumentError("Namespace not set on request.")
        record = await self._namespaces.get(request.namespace or request.id)
        return ns_api.describe(record, self._config)

    @translated
    async def DeprecateNamespace(
        self, request: wsv1.DeprecateNamespaceRequest, context: Any
    ) -> wsv1.DeprecateNamespaceResponse:
        await self._namespaces.update_info(request.namespace, {"state": "deprecated"})
        return wsv1.DeprecateNamespaceResponse()

    @translated
    async def ListNamespaces(
        self, request: wsv1.ListNamespacesRequest, context: Any
    ) -> wsv1.ListNamespacesResponse:
        response = wsv1.ListNamespacesResponse()
        for record in await self._namespaces.list_all():
            response.namespaces.append(ns_api.describe(record, self._config))
        return response

    @translated
    async def UpdateNamespace(
        self, request: wsv1.UpdateNamespaceRequest, context: Any
    ) -> wsv1.UpdateNamespaceResponse:
        record = await ns_api.update(self._namespaces, request)
        described = ns_api.describe(record, self._config)
        return wsv1.UpdateNamespaceResponse(
            namespace_info=described.namespace_info,
            config=described.config,
            replication_config=described.replication_config,
        )
