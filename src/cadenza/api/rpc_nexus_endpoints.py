"""OperatorService's Nexus endpoint RPCs: the registry of ``cadenza.nexus.endpoints`` on the wire."""

from __future__ import annotations

from typing import Any

from temporalio.api.nexus.v1 import Endpoint as EndpointMessage
from temporalio.api.operatorservice.v1 import request_response_pb2 as opv1

from cadenza.api.errors import translated
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.nexus.endpoints import Endpoint, NexusEndpoints, check_endpoint_id


class NexusEndpointRpcs:
    """Create/Get/Update/Delete/ListNexusEndpoints; a part of ``OperatorService``."""

    _endpoints: NexusEndpoints

    @translated
    async def CreateNexusEndpoint(
        self, request: opv1.CreateNexusEndpointRequest, context: Any
    ) -> opv1.CreateNexusEndpointResponse:
        endpoint = await self._endpoints.create(request.spec)
        return opv1.CreateNexusEndpointResponse(endpoint=endpoint_message(endpoint))

    @translated
    async def GetNexusEndpoint(
        self, request: opv1.GetNexusEndpointRequest, context: Any
    ) -> opv1.GetNexusEndpointResponse:
        endpoint = await self._endpoints.get(request.id)
        return opv1.GetNexusEndpointResponse(endpoint=endpoint_message(endpoint))

    @translated
    async def UpdateNexusEndpoint(
        self, request: opv1.UpdateNexusEndpointRequest, context: Any
    ) -> opv1.UpdateNexusEndpointResponse:
        endpoint = await self._endpoints.update(request.id, request.version, request.spec)
        return opv1.UpdateNexusEndpointResponse(endpoint=endpoint_message(endpoint))

    @translated
    async def DeleteNexusEndpoint(
        self, request: opv1.DeleteNexusEndpointRequest, context: Any
    ) -> opv1.DeleteNexusEndpointResponse:
        await self._endpoints.delete(request.id)
        return opv1.DeleteNexusEndpointResponse()

    @translated
    async def ListNexusEndpoints(
        self, request: opv1.ListNexusEndpointsRequest, context: Any
    ) -> opv1.ListNexusEndpointsResponse:
        if request.name:
            # As on the real server, a name asks for that one endpoint and pages are ignored
            # (a name no endpoint could have finds none).
            found = await self._endpoints.by_name(request.name)
            endpoints = [] if found is None else [endpoint_message(found)]
            return opv1.ListNexusEndpointsResponse(endpoints=endpoints)
        after = _after_id(request.next_page_token)
        page = await self._endpoints.page(after, request.page_size)
        response = opv1.ListNexusEndpointsResponse(endpoints=[endpoint_message(e) for e in page])
        if request.page_size and len(page) == request.page_size:
            response.next_page_token = page[-1].record.endpoint_id.encode()
        return response


def endpoint_message(endpoint: Endpoint) -> EndpointMessage:
    """The endpoint as the real server shows it: a created time until its first update, then
    only the time of the last update."""
    record = endpoint.record
    message = EndpointMessage(
        version=record.version, id=record.endpoint_id, spec=endpoint.spec, url_prefix=endpoint.url_prefix
    )
    if record.modified_time is None:
        message.created_time.CopyFrom(ev.timestamp(record.created_time))
    else:
        message.last_modified_time.CopyFrom(ev.timestamp(record.modified_time))
    return message


def _after_id(token: bytes) -> str:
    if not token:
        return ""
    try:
        after = token.decode()
        check_endpoint_id(after)
    except (UnicodeDecodeError, InvalidArgumentError) as error:
        raise InvalidArgumentError("invalid next_page_token") from error
    return after
