"""Listing, counting and search-attribute RPCs."""

from __future__ import annotations

from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.config import ServerConfig
from cadenza.namespaces import NamespaceRegistry
from cadenza.visibility import attributes, open_closed
from cadenza.visibility.query import Query
from cadenza.visibility.service import Page, Visibility


class VisibilityRpcs:
    """Listing, counting and search-attribute RPCs."""

    def __init__(
        self, *, config: ServerConfig, namespaces: NamespaceRegistry, visibility: Visibility
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._visibility = visibility

    @translated
    async def ListWorkflowExecutions(
        self, request: wsv1.ListWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ListWorkflowExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        page = await self._visibility.list_page(
            namespace, request.query, request.page_size, request.next_page_token
        )
        return wsv1.ListWorkflowExecutionsResponse(
            executions=page.executions, next_page_token=page.next_page_token
        )

    @translated
    async def ListOpenWorkflowExecutions(
        self, request: wsv1.ListOpenWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ListOpenWorkflowExecutionsResponse:
        workflow_id, type_name, _ = _chosen_filter(request)
        page = await self._old_style_page(
            request, open_closed.open_filter(_time_range(request), workflow_id, type_name)
        )
        return wsv1.ListOpenWorkflowExecutionsResponse(
            executions=page.executions, next_page_token=page.next_page_token
        )

    @translated
    async def ListClosedWorkflowExecutions(
        self, request: wsv1.ListClosedWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ListClosedWorkflowExecutionsResponse:
        workflow_id, type_name, status = _chosen_filter(request)
        page = await self._old_style_page(
            request, open_closed.closed_filter(_time_range(request), workflow_id, type_name, status)
        )
        return wsv1.ListClosedWorkflowExecutionsResponse(
            executions=page.executions, next_page_token=page.next_page_token
        )

    async def _old_style_page(self, request: Any, parsed: Query) -> Page:
        """One page of ListOpen/ListClosedWorkflowExecutions, whose filter is already built."""
        namespace = await self._namespaces.get(request.namespace)
        return await self._visibility.list_parsed(
            namespace, parsed, request.maximum_page_size, request.next_page_token
        )

    @translated
    async def ScanWorkflowExecutions(
        self, request: wsv1.ScanWorkflowExecutionsRequest, context: Any
    ) -> wsv1.ScanWorkflowExecutionsResponse:
        # Scanning is listing without a promised order; Cadenza lists newest first for both.
        listed = await self.ListWorkflowExecutions(
            wsv1.ListWorkflowExecutionsRequest(
                namespace=request.namespace,
                page_size=request.page_size,
                next_page_token=request.next_page_token,
                query=request.query,
            ),
            context,
        )
        return wsv1.ScanWorkflowExecutionsResponse(
            executions=listed.executions, next_page_token=listed.next_page_token
        )

    @translated
    async def CountWorkflowExecutions(
        self, request: wsv1.CountWorkflowExecutionsRequest, context: Any
    ) -> wsv1.CountWorkflowExecutionsResponse:
        namespace = await self._namespaces.get(request.namespace)
        total, groups = await self._visibility.count(namespace, request.query)
        response = wsv1.CountWorkflowExecutionsResponse(count=total)
        for value, count in groups:
            group = response.groups.add(count=count)
            group.group_values.append(value)
        return response

    @translated
    async def GetSearchAttributes(
        self, request: wsv1.GetSearchAttributesRequest, context: Any
    ) -> wsv1.GetSearchAttributesResponse:
        namespace = await self._namespaces.get(self._config.default_namespace)
        types = attributes.SYSTEM_TYPES | NamespaceRegistry.search_attribute_types(namespace)
        return wsv1.GetSearchAttributesResponse(keys=types)  # type: ignore[arg-type]


def _chosen_filter(request: Any) -> tuple[str | None, str | None, int | None]:
    """(workflow ID, type name, status) from the request's one-of filter; None where not chosen."""
    chosen = request.WhichOneof("filters")
    return (
        request.execution_filter.workflow_id if chosen == "execution_filter" else None,
        request.type_filter.name if chosen == "type_filter" else None,
        request.status_filter.status if chosen == "status_filter" else None,
    )


def _time_range(request: Any) -> open_closed.TimeRange:
    """The request's start_time_filter; an unset end leaves the range open there."""
    window = request.start_time_filter
    return open_closed.TimeRange(
        _nanos(window.earliest_time) if window.HasField("earliest_time") else None,
        _nanos(window.latest_time) if window.HasField("latest_time") else None,
    )


def _nanos(moment: Any) -> int:
    # Not ToNanoseconds(): it refuses the out-of-range times Temporal takes.
    return open_closed.epoch_nanos(moment.seconds, moment.nanos)
