"""Errors as the real server's HTTP API answers them: the gRPC status as JSON, and the
HTTP status grpc-gateway gives its code."""

from __future__ import annotations

from google.rpc import code_pb2, status_pb2
from starlette.responses import JSONResponse, Response

from cadenza.web.temporal_api.json_encode import Style, encode

HTTP_STATUS = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}
"""grpc-gateway's ``HTTPStatusFromCode``."""


def status_response(status: status_pb2.Status, style: Style) -> Response:
    """``status`` as the JSON error body, with the HTTP status of its code."""
    return Response(
        encode(status, style), status_code=HTTP_STATUS.get(status.code, 500), media_type=style.content_type
    )


def error_response(code: int, message: str, style: Style) -> Response:
    return status_response(status_pb2.Status(code=code, message=message), style)


def failure_json(status: status_pb2.Status) -> JSONResponse:
    """``status`` as the error JSON of Cadenza's own HTTP routes (code and message, no details),
    with the HTTP status of its code."""
    return JSONResponse(
        {"code": status.code, "message": status.message, "details": []},
        status_code=HTTP_STATUS.get(status.code, 500),
    )
