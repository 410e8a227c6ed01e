"""OperatorService: search attributes per namespace, namespace deletion and Nexus endpoints
(the rest answers UNIMPLEMENTED)."""

from __future__ import annotations

from typing import Any

from temporalio.api.operatorservice.v1 import request_response_pb2 as opv1

from cadenza.api.errors import translated
from cadenza.api.rpc_nexus_endpoints import NexusEndpointRpcs
from cadenza.exceptions import InvalidArgumentError
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus.endpoints import NexusEndpoints
from cadenza.visibility import attributes


class OperatorService(NexusEndpointRpcs):
    def __init__(self, namespaces: NamespaceRegistry, endpoints: NexusEndpoints) -> None:
        self._namespaces = namespaces
        self._endpoints = endpoints

    @translated
    async def AddSearchAttributes(
        self, request: opv1.AddSearchAttributesRequest, context: Any
    ) -> opv1.AddSearchAttributesResponse:
        if not request.search_attributes:
            raise InvalidArgumentError("SearchAttributes are not set on request.")
        await self._namespaces.add_search_attributes(
            request.namespace or "default", dict(request.search_attributes)
        )
        return opv1.AddSearchAttributesResponse()

    @translated
    async def RemoveSearchAttributes(
        self, request: opv1.RemoveSearchAttributesRequest, context: Any
    ) -> opv1.RemoveSearchAttributesResponse:
        if not request.search_attributes:
            raise InvalidArgumentError("SearchAttributes are not set on request.")
        await self._namespaces.remove_search_attributes(
            request.namespace or "default", list(request.search_attributes)
        )
        return opv1.RemoveSearchAttributesResponse()

    @translated
    async def DeleteNamespace(
        self, request: opv1.DeleteNamespaceRequest, context: Any
    ) -> opv1.DeleteNamespaceResponse:
        name = await self._namespaces.delete(request.namespace)
        return opv1.DeleteNamespaceResponse(deleted_namespace=name)

    @translated
    async def ListSearchAttributes(
        self, request: opv1.ListSearchAttributesRequest, context: Any
    ) -> opv1.ListSearchAttributesResponse:
        record = await self._namespaces.get(request.namespace or "default")
        return opv1.ListSearchAttributesResponse(
            custom_attributes=NamespaceRegistry.search_attribute_types(record),  # type: ignore[arg-type]
            system_attributes=attributes.SYSTEM_TYPES,  # type: ignore[arg-type]
        )
