"""``/namespaces`` and ``/namespaces/{namespace}``: the list, and one namespace's settings and counts."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest, ListSearchAttributesResponse
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    CountWorkflowExecutionsResponse,
    DescribeNamespaceRequest,
    DescribeNamespaceResponse,
    ListNamespacesRequest,
    ListNamespacesResponse,
)

from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site

NAMESPACES_PAGE = 100


async def namespace_list(site: Site, request: Request) -> Response:
    try:
        listed = await site.rpc(
            "ListNamespaces", ListNamespacesRequest(page_size=NAMESPACES_PAGE), ListNamespacesResponse
        )
    except CallFailed as failure:
        return site.failed(request, failure)
    return site.page(request, "namespaces.html", title="Namespaces", namespaces=listed.namespaces)


async def namespace_detail(site: Site, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    try:
        described = await site.rpc(
            "DescribeNamespace", DescribeNamespaceRequest(namespace=namespace), DescribeNamespaceResponse
        )
        attributes = await site.rpc(
            "ListSearchAttributes",
            ListSearchAttributesRequest(namespace=namespace),
            ListSearchAttributesResponse,
        )
        counts = await status_counts(site.rpc, namespace, "")
    except CallFailed as failure:
        return site.failed(request, failure)
    return site.page(
        request,
        "namespace.html",
        title=namespace,
        namespace=namespace,
        described=described,
        retention=described.config.workflow_execution_retention_ttl.ToTimedelta(),
        custom_attributes=_typed(attributes.custom_attributes),
        system_attributes=_typed(attributes.system_attributes),
        counts=counts,
    )


def _typed(attributes: Mapping[str, int]) -> list[tuple[str, str]]:
    return sorted(
        (name, IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_").title())  # type: ignore[arg-type]
        for name, kind in attributes.items()
    )


async def status_counts(rpc: Rpc, namespace: str, query: str) -> dict[str, int]:
    """How many executions the query matches, by status (``Running``...), and ``All``."""
    grouped = f"{query} GROUP BY ExecutionStatus" if query.strip() else "GROUP BY ExecutionStatus"
    answer = await rpc(
        "CountWorkflowExecutions",
        CountWorkflowExecutionsRequest(namespace=namespace, query=grouped),
        CountWorkflowExecutionsResponse,
    )
    counts = {"All": answer.count}
    for group in answer.groups:
        if group.group_values:
            status = json.loads(group.group_values[0].data)
            counts[str(status)] = group.count
    return counts
