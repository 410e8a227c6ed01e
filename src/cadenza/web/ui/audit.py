"""``/namespaces/{namespace}/audit``: the namespace's audit log, newest first, filtered by
principal and time, a page at a time (``?before=`` the last row shown)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cadenza.api.audit_calls import AuditCalls
from cadenza.api.http_calls import CallFailed
from cadenza.web.tls_protocol import connection_certificate
from cadenza.web.ui.schedules import run_path, schedule_path
from cadenza.web.ui.site import Site

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditRow:
    time: str
    principal: str
    method: str
    target: str
    target_path: str | None
    outcome: str
    reason: str
    identity: str
    request_id: str


def _row(namespace: str, record: dict[str, Any]) -> AuditRow:
    principal = record["principal"]
    workflow_id, run_id, schedule_id = record["workflowId"], record["runId"], record["scheduleId"]
    path: str | None
    if schedule_id:
        target, path = schedule_id, schedule_path(namespace, schedule_id)
    else:
        target, path = (
            workflow_id,
            run_path(namespace, workflow_id, run_id) if workflow_id and run_id else None,
        )
    return AuditRow(
        time=record["time"],
        principal=f"{principal['type']}:{principal['name']}",
        method=record["method"],
        target=target,
        target_path=path,
        outcome=record["outcome"],
        reason=record["reason"],
        identity=record["identity"],
        request_id=record["requestId"],
    )


async def audit_page(site: Site, audit: AuditCalls, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    query = {
        key: value for key, value in request.query_params.items() if key in ("principal", "since", "before")
    }
    try:
        records = await audit.list(
            {**query, "limit": str(PAGE_SIZE)},
            None,  # the browser's credentials, as for the UI's other calls
            namespace,
            connection_certificate.get(),
        )
    except CallFailed as failure:
        return site.failed(request, failure)
    return site.page(
        request,
        "audit.html",
        title=f"Audit log · {namespace}",
        namespace=namespace,
        principal=query.get("principal", ""),
        since=query.get("since", ""),
        rows=[_row(namespace, record) for record in records],
        next_before=records[-1]["id"] if len(records) == PAGE_SIZE else None,
    )
