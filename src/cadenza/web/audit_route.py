"""``GET /api/v1/cadenza/audit``: the audit log as JSON, or JSON lines for an export.

Query parameters: ``namespace``, ``principal``, ``since`` (``1h`` or an ISO
time), ``before`` (a row's id: the page after it), ``limit`` (1 to 1000). An
``Accept: application/x-ndjson`` header (or ``format=jsonl``) asks for one
object per line. Errors are Temporal's HTTP API error JSON.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cadenza.api.audit_calls import AuditCalls
from cadenza.api.http_calls import CallFailed
from cadenza.web.temporal_api.endpoint import request_metadata
from cadenza.web.temporal_api.statuses import failure_json
from cadenza.web.tls_protocol import client_certificate

PATH = "/api/v1/cadenza/audit"
JSON_LINES = "application/x-ndjson"


def audit_routes(audit: AuditCalls) -> list[BaseRoute]:
    async def listing(request: Request) -> Response:
        try:
            rows = await audit.list(
                request.query_params,
                request_metadata(request),
                client_certificate=client_certificate(request.scope),
            )
        except CallFailed as failed:
            return failure_json(failed.status)
        if request.query_params.get("format") == "jsonl" or JSON_LINES in request.headers.get("accept", ""):
            body = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
            return Response(body, media_type=JSON_LINES)
        # The next page is the rows before the last one given (``?before=``), while any are left.
        return JSONResponse({"records": rows, "nextBefore": rows[-1]["id"] if rows else None})

    return [Route(PATH, listing, methods=["GET"])]
