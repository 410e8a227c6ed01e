"""``/namespaces/{namespace}/workflows``: the list with Temporal's filter language, quick filters,
counts by status, paging by the RPC's page token; and ``workflows.csv`` / ``workflows.json``, the
whole list exported."""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import datetime
import io
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest, ListSearchAttributesResponse
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)

from cadenza.web.temporal_api.json_encode import to_json_value
from cadenza.web.ui import list_columns, present, time_range
from cadenza.web.ui.namespaces import status_counts
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site
from cadenza.web.ui.view_store import list_url, namespace_id

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
"""Most executions one export holds, so one request's work stays bounded."""
EXPORT_PAGE_SIZE = 1000


SORTS = {
    "start-desc": "StartTime DESC",
    "start-asc": "StartTime ASC",
    "close-desc": "CloseTime DESC",
    "close-asc": "CloseTime ASC",
}
"""The orders the list offers, as ``?sort=`` names them, and the ORDER BY each adds."""


@dataclass(frozen=True)
class Filters:
    """The list's filter as the query string carries it, so a URL shares it whole."""

    query: str = ""
    status: str = ""
    workflow_type: str = ""
    workflow_id: str = ""
    sort: str = ""
    """One of ``SORTS``; empty for Temporal's order (open runs first, then newest closed)."""
    columns: tuple[str, ...] = ()
    """The columns asked for, by the names the filter language gives them; empty for the defaults."""

    @classmethod
    def of(cls, request: Request) -> Filters:
        return cls.of_params(request.query_params)

    @classmethod
    def of_params(cls, params: QueryParams) -> Filters:
        status, sort = params.get("status", ""), params.get("sort", "")
        asked = [name.strip() for value in params.getlist("columns") for name in value.split(",")]
        query, typed_sort = _order_split(params.get("query", "").strip())
        return cls(
            query=query,
            status=status if status in present.STATUSES else "",
            workflow_type=params.get("type", "").strip(),
            workflow_id=params.get("id", "").strip(),
            sort=typed_sort or (sort if sort in SORTS else ""),
            columns=tuple(name for name in asked if name),
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
        """The whole filter in Temporal's list-filter language, with its order."""
        rest = self.without_status()
        if self.status:
            status = f"ExecutionStatus = {_quoted(self.status)}"
            rest = f"{rest} AND {status}" if rest else status
        return f"{rest} ORDER BY {SORTS[self.sort]}".strip() if self.sort else rest

    def params(self, **changes: str) -> dict[str, str]:
        """The query-string parameters of this filter, with ``changes``; empty ones left out."""
        values = {
            "query": self.query,
            "status": self.status,
            "type": self.workflow_type,
            "id": self.workflow_id,
            "columns": ",".join(self.columns),
            "sort": self.sort,
            **changes,
        }
        return {key: value for key, value in values.items() if value}

    def shown(self) -> dict[str, str]:
        """The parameters of how the list is shown (columns, order), which clearing the filter keeps."""
        return {key: value for key, value in self.params().items() if key in ("columns", "sort")}


_TYPED_ORDER = re.compile(r"\s*\bORDER\s+BY\s+(StartTime|CloseTime)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


def _order_split(query: str) -> tuple[str, str]:
    """A query typed with an ORDER BY the list offers, as the filter and the ``SORTS`` key:
    the list puts its own order after the whole filter, where the typed one must be too."""
    match = _TYPED_ORDER.search(query)
    if match is None:
        return query, ""
    field = "start" if match.group(1).lower() == "starttime" else "close"
    direction = "asc" if (match.group(2) or "ASC").upper() == "ASC" else "desc"
    return query[: match.start()].strip(), f"{field}-{direction}"


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
    if "range" in request.query_params:
        return _with_time_range(site, request, filters)
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
        attributes = await _attributes(site.rpc, namespace)
        views = await site.saved_views.saved_views(await namespace_id(site.rpc, namespace))
    except CallFailed as failure:
        return site.failed(request, failure)
    types = {**attributes.system_attributes, **attributes.custom_attributes}
    choices = list_columns.available(attributes.system_attributes, attributes.custom_attributes)
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
        columns=list_columns.chosen(filters.columns, choices),
        column_choices=choices,
        label=list_columns.label,
        cell=lambda info, name: list_columns.cell(info, name, types),
        sorts=SORTS,
        time_fields=time_range.FIELDS,
        time_ranges=[*time_range.RANGES, time_range.CUSTOM],
        views=views,
        this_view=urlencode(filters.params()),
    )


def _with_time_range(site: Site, request: Request, filters: Filters) -> Response:
    """The list with the chosen time range written into its filter, where it can be read and
    edited (``StartTime > "..."``), as Temporal's UI writes it; with no range chosen, the list
    the filter form asked for, its URL rid of the empty range fields."""
    params = request.query_params
    namespace = request.path_params["namespace"]
    if not params["range"]:
        return RedirectResponse(list_url(namespace, urlencode(filters.params())), 303)
    try:
        clause = time_range.clause(
            params.get("time", "StartTime"),
            params.get("range", ""),
            params.get("from", ""),
            params.get("to", ""),
            datetime.datetime.now(datetime.UTC),
        )
    except time_range.BadRange as error:
        return site.refused(request, 400, "Bad Request", str(error))
    query = time_range.with_clause(filters.query, clause)
    changed = dataclasses.replace(filters, query=query)
    return RedirectResponse(list_url(namespace, urlencode(changed.params())), 303)


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
        attributes = await _attributes(site.rpc, namespace) if filters.columns else None
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
    if attributes is not None:
        # The columns the list shows, as it shows them; without a choice, every field as before.
        csv.writer(out).writerows(_shown_rows(executions, filters.columns, attributes))
    else:
        csv.writer(out).writerows(present.csv_rows(executions))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


async def _attributes(rpc: Rpc, namespace: str) -> ListSearchAttributesResponse:
    return await rpc(
        "ListSearchAttributes", ListSearchAttributesRequest(namespace=namespace), ListSearchAttributesResponse
    )


def _shown_rows(
    executions: list[WorkflowExecutionInfo], asked: tuple[str, ...], attributes: ListSearchAttributesResponse
) -> Iterable[list[str]]:
    """An export's rows in the chosen columns: their headings, then one row per execution."""
    types = {**attributes.system_attributes, **attributes.custom_attributes}
    choices = list_columns.available(attributes.system_attributes, attributes.custom_attributes)
    columns = list_columns.chosen(asked, choices)
    yield [list_columns.label(name) for name in columns]
    for info in executions:
        yield [list_columns.cell(info, name, types) for name in columns]


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
