"""Temporal's HTTP API as one ASGI app: route, read the request, call its RPC, write the answer.

Every request is served as the real server's grpc-gateway mux serves it: the
route is found by method and path (a path served only under another method
answers 501 with code 12, an unknown one 404 with code 5), the request is read
from the body (``*``) or from query parameters, path variables are set on top,
and the RPC runs through the same servicer method as over gRPC
(``cadenza.api.http_calls``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from google.protobuf import message_factory
from google.protobuf.message import Message
from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cadenza.api.http_calls import CallFailed, HttpCallContext, HttpCalls
from cadenza.web.temporal_api import media
from cadenza.web.temporal_api.binding import BindingError, bind_path, bind_query
from cadenza.web.temporal_api.json_decode import DecodeError, decode
from cadenza.web.temporal_api.json_encode import EncodeError, Style, encode
from cadenza.web.temporal_api.routes import Route, RouteTable, all_routes
from cadenza.web.temporal_api.statuses import error_response, status_response
from cadenza.web.tls_protocol import client_certificate

LARGE_BYTES = 64 * 1024
"""Requests and answers past this are read and written as JSON on a thread."""

MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body read, as the real server limits it (gRPC's default message size)."""

T = TypeVar("T")

_GRPC_TIMEOUT = re.compile(r"^([0-9]{1,8})([HMSmun])$")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


class BadRequest(Exception):
    """A request refused before its RPC runs, with the message of INVALID_ARGUMENT."""


class TemporalHttpApi:
    """The ASGI app serving ``/api/v1/...`` (and every other binding the annotations declare)."""

    def __init__(self, calls: HttpCalls, routes: list[Route] | None = None) -> None:
        self._calls = calls
        self._table = RouteTable(all_routes() if routes is None else routes)
        self._in_flight: set[asyncio.Future[Message]] = set()

    @property
    def calls_in_flight(self) -> int:
        return len(self._in_flight)

    async def drain(self, grace: float) -> None:
        """Give the calls in flight ``grace`` seconds, then cancel the rest: their clients are
        answered UNAVAILABLE (503), as gRPC's clients are when the server stops."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace)
        for call in self._in_flight:
            call.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request, receive)
        if response is not None:
            await response(scope, receive, send)

    async def _answer(self, request: Request, receive: Receive) -> Response | None:
        inbound, outbound = media.styles_for(
            request.headers.getlist("accept"),
            request.headers.getlist("content-type"),
            list(request.query_params.keys()),
        )
        path: str = request.scope["path"]
        try:
            found, params = await self._route(request, path)
            if found is None:
                if self._table.other_methods_serve(request.method, path):
                    return error_response(code_pb2.UNIMPLEMENTED, "Method Not Allowed", outbound)
                return error_response(code_pb2.NOT_FOUND, "Not Found", outbound)
            route, variables = found
            rpc_request = await self._request(route, variables, params, request, inbound)
        except BadRequest as error:
            return error_response(code_pb2.INVALID_ARGUMENT, str(error), outbound)
        return await self._call(route, rpc_request, request, receive, outbound)

    async def _route(
        self, request: Request, path: str
    ) -> tuple[tuple[Route, dict[str, str]] | None, list[tuple[str, str]]]:
        """The route and its path variables (None when there is none), and the query parameters."""
        found = self._table.find(request.method, path)
        params = request.query_params.multi_items()
        if found is None and _is_form_post(request):
            # As grpc-gateway does: a form POSTed to a path served by GET is that GET, its
            # fields in the body and the query.
            form = parse_qsl((await _body(request)).decode(errors="replace"), keep_blank_values=True)
            return self._table.find("GET", path), form + params
        return found, params

    async def _request(
        self,
        route: Route,
        variables: dict[str, str],
        params: list[tuple[str, str]],
        request: Request,
        style: Style,
    ) -> Message:
        rpc_request = message_factory.GetMessageClass(route.rpc.input_type)()
        try:
            if route.body == "*":
                body = await _body(request)
                await _off_the_loop_if(len(body) > LARGE_BYTES, decode, body, rpc_request, style)
            else:
                bind_query(rpc_request, params, variables)
            for field_path, value in variables.items():
                bind_path(rpc_request, field_path, value)
        except (DecodeError, BindingError) as error:
            raise BadRequest(str(error)) from None
        return rpc_request

    async def _call(
        self, route: Route, rpc_request: Message, request: Request, receive: Receive, style: Style
    ) -> Response | None:
        gone = asyncio.ensure_future(_disconnect(receive))
        context = HttpCallContext(
            request_metadata(request), _timeout(request), gone.done, client_certificate(request.scope)
        )
        call = asyncio.ensure_future(self._calls.call(route.rpc, rpc_request, context))
        self._in_flight.add(call)
        call.add_done_callback(self._in_flight.discard)
        try:
            await asyncio.wait((call, gone), return_when=asyncio.FIRST_COMPLETED)
            if not call.done():
                return None  # the client went away: the call is cancelled, as over gRPC
            if call.cancelled():
                return error_response(code_pb2.UNAVAILABLE, "the server is stopping", style)
            return await _answer_of(call, style)
        finally:
            for task in (call, gone):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, CallFailed):
                await call


async def _answer_of(call: asyncio.Future[Message], style: Style) -> Response:
    try:
        response = call.result()
    except CallFailed as failed:
        return status_response(failed.status, style)
    try:
        body = await _off_the_loop_if(response.ByteSize() > LARGE_BYTES, encode, response, style)
    except EncodeError as error:
        return error_response(code_pb2.UNKNOWN, str(error), style)
    return Response(body, media_type=style.content_type)


async def _off_the_loop_if(large: bool, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, on a thread when it is large, so a long history written as JSON (tens of
    milliseconds per thousand events) does not hold up every other call on the loop."""
    if large:
        return await asyncio.to_thread(work, *args)
    return work(*args)


def _is_form_post(request: Request) -> bool:
    return (
        request.method == "POST"
        and request.headers.get("content-type") == "application/x-www-form-urlencoded"
    )


async def _body(request: Request) -> bytes:
    """The body, refused past ``MAX_BODY_BYTES`` with the real server's message."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest("http: request body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest("http: request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _disconnect(receive: Receive) -> None:
    """Return once the client has closed its connection (after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def request_metadata(request: Request) -> list[tuple[str, str]]:
    """The gRPC metadata the headers stand for (credentials among them), as grpc-gateway
    forwards them; every route that calls the servicers over HTTP reads its caller so."""
    pairs = []
    for name, value in request.headers.items():
        if name.startswith("grpc-metadata-"):
            pairs.append((name.removeprefix("grpc-metadata-"), value))
        elif name == "authorization":
            pairs.append((name, value))
    return pairs


def _timeout(request: Request) -> float | None:
    """The deadline a ``Grpc-Timeout`` header sets (``10S``, ``500m``), as grpc-gateway reads it."""
    header = _GRPC_TIMEOUT.match(request.headers.get("grpc-timeout", ""))
    if header is None:
        return None
    return int(header.group(1)) * _TIMEOUT_UNITS[header.group(2)]
