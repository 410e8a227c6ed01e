"""``/api/v1/cadenza/namespaces/{namespace}/concurrency-limits``: the concurrency limits.

- ``GET``: the namespace's limits, each with the slots held now;
- ``POST`` ``{"scope", "name", "limit", "fairnessKeyLimit", "policy"}``: set one (scope
  ``activity-queue``, ``workflow-type`` or ``workflow-id-prefix``; policy ``queue`` or
  ``reject``), replacing what it had; for an activity queue ``limit`` is the whole queue's
  cap, as Temporal's proposed ``TaskQueueConfig`` concurrency limit, and ``fairnessKeyLimit``
  each fairness key's;
- ``POST .../unset`` ``{"scope", "name"}``: remove one.

Each is authorized as an RPC (see ``cadenza.api.concurrency_calls``); errors are Temporal's
HTTP API error JSON.
"""

from __future__ import annotations

import json
from typing import Any

from google.rpc import code_pb2, status_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cadenza.api.concurrency_calls import LIST, SET, UNSET, ConcurrencyCalls, LimitRequest
from cadenza.api.http_calls import CallFailed
from cadenza.web.temporal_api.endpoint import request_metadata
from cadenza.web.temporal_api.statuses import failure_json
from cadenza.web.tls_protocol import client_certificate

PATH = "/api/v1/cadenza/namespaces/{namespace}/concurrency-limits"


def concurrency_routes(calls: ConcurrencyCalls) -> list[BaseRoute]:
    async def answer(request: Request, method: str, limit: LimitRequest) -> Response:
        try:
            body = await calls.call(
                method, limit, request_metadata(request), client_certificate=client_certificate(request.scope)
            )
        except CallFailed as failed:
            return failure_json(failed.status)
        return JSONResponse({"limits": body} if method == LIST else body)

    async def listing(request: Request) -> Response:
        return await answer(request, LIST, LimitRequest(request.path_params["namespace"]))

    async def setting(request: Request) -> Response:
        fields = await _fields(request)
        if isinstance(fields, Response):
            return fields
        return await answer(request, SET, _limit_request(request.path_params["namespace"], fields))

    async def unsetting(request: Request) -> Response:
        fields = await _fields(request)
        if isinstance(fields, Response):
            return fields
        return await answer(request, UNSET, _limit_request(request.path_params["namespace"], fields))

    return [
        Route(PATH, listing, methods=["GET"]),
        Route(PATH, setting, methods=["POST"]),
        Route(PATH + "/unset", unsetting, methods=["POST"]),
    ]


async def _fields(request: Request) -> dict[str, Any] | Response:
    try:
        fields = json.loads(await request.body() or b"{}")
    except ValueError as error:
        return _bad(f"the body is not JSON: {error}")
    if not isinstance(fields, dict):
        return _bad("the body must be a JSON object")
    return fields


def _limit_request(namespace: str, fields: dict[str, Any]) -> LimitRequest:
    def number(key: str) -> int:
        value = fields.get(key, 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

    return LimitRequest(
        namespace,
        scope=str(fields.get("scope", "")),
        name=str(fields.get("name", "")),
        limit=number("limit"),
        fairness_key_limit=number("fairnessKeyLimit"),
        policy=str(fields.get("policy", "queue")),
    )


def _bad(message: str) -> Response:
    return failure_json(status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message))
