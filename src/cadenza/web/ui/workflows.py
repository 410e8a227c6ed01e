"""``/namespaces/{namespace}/workflows``: the list with Temporal's filter language, quick filters,
counts by status, paging by the RPC's page token; and ``workflows.csv`` / ``workflows.json``, the
whole list exported."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)

from cadenza.web.temporal_api.json_encode import to_json_value
from cadenza.web.ui import present
from cadenza.web.ui.namespaces import status_counts
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
"""Most executions one export holds, so one request's work stays bounded."""
EXPORT_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Filters:
    """The list's filter as the query string carries it, so a URL shares it whole."""

    query: str = ""
    status: str = ""
    workflow_type: str = ""
    workflow_id: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        params = request.query_params
        status = params.get("status", "")
        return cls(
            query=params.get("query", "").strip(),
            status=status if status in present.STATUSES else "",
            workflow_type=params.get("type", "").strip(),
            workflow_id=params.get("id", "").strip(),
        )

    def without_status(self) -> str:
        """The filter in Temporal's list-filter language, the status left out (for the counts)."""
        clauses = [f"({self.query})"] if self.query else []
        if self.workflow_type:
            clauses.append(f"WorkflowType = {_quoted(self.workflow_type)}")
        if self.workflow_id:
            clauses.append(f"WorkflowId = {_quoted(self.workflow_id)}")
        return " AND ".join(clauses)

    def full(self) -> str:
        """The whole filter in Temporal's list-filter language."""
        rest = self.without_status()
        if not self.status:
            return rest
        status = f"ExecutionStatus = {_quoted(self.status)}"
        return f"{rest} AND {status}" if rest else status

    def params(self, **changes: str) -> dict[str, str]:
        """The query-string parameters of this filter, with ``changes``; empty ones left out."""
        values = {
            "query": self.query,
            "status": self.status,
            "type": self.workflow_type,
            "id": self.workflow_id,
            **changes,
        }
        return {key: value for key, value in values.items() if value}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


async def workflow_list(site: Site, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    filters = Filters.of(request)
    token = _token(request.query_params.get("token", ""))
    if token is None:
        return site.refused(request, 400, "Bad Request", "the page token is not one this list gave")
    try:
        listed = await site.rpc(
            "ListWorkflowExecutions",
            ListWorkflowExecutionsRequest(
                namespace=namespace, page_size=PAGE_SIZE, next_page_token=token, query=filters.full()
            ),
            ListWorkflowExecutionsResponse,
        )
        counts = await status_counts(site.rpc, namespace, filters.without_status())
    except CallFailed as failure:
        return site.failed(request, failure)
    next_token = base64.urlsafe_b64encode(listed.next_page_token).decode() if listed.next_page_token else ""
    return site.page(
        request,
        "workflows.html",
        title=f"Workflows · {namespace}",
        namespace=namespace,
        filters=filters,
        executions=listed.executions,
        counts=counts,
        statuses=present.STATUSES,
        next_token=next_token,
    )


async def workflow_export(site: Site, request: Request) -> Response:
    """``/namespaces/{namespace}/workflows.csv`` (or ``.json``): every execution the list's
    filter matches, up to ``EXPORT_LIMIT``."""
    namespace, kind, filters = (
        request.path_params["namespace"],
        request.path_params["kind"],
        Filters.of(request),
    )
    if kind not in ("csv", "json"):
        return site.refused(request, 400, "Bad Request", f"export {kind!r}: expected csv or json")
    try:
        executions = [info async for info in _all(site.rpc, namespace, filters.full())]
    except CallFailed as failure:
        return site.failed(request, failure)
    filename = f"workflows-{namespace}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if kind == "json":
        body = orjson.dumps(
            [to_json_value(info, present.SHORTHAND) for info in executions], option=orjson.OPT_INDENT_2
        )
        return Response(body, media_type="application/json", headers=headers)
    out = io.StringIO()
    csv.writer(out).writerows(present.csv_rows(executions))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


async def _all(rpc: Rpc, namespace: str, query: str) -> AsyncIterator[WorkflowExecutionInfo]:
    """Every execution the query matches, up to ``EXPORT_LIMIT``, page after page."""
    token, sent = b"", 0
    while True:
        listed = await rpc(
            "ListWorkflowExecutions",
            ListWorkflowExecutionsRequest(
                namespace=namespace, page_size=EXPORT_PAGE_SIZE, next_page_token=token, query=query
            ),
            ListWorkflowExecutionsResponse,
        )
        for info in listed.executions:
            if sent >= EXPORT_LIMIT:
                return
            sent += 1
            yield info
        token = listed.next_page_token
        if not token:
            return
