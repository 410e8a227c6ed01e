"""API keys over HTTP, for administrators: ``/api/v1/cadenza/auth/keys``.

The command line manages keys in the database; these routes do the same through a running
server, checked like any call (the ``Authorization`` header, the same authenticators): a
cluster admin manages every key, a namespace's admin the keys of that namespace (never keys
on every namespace, never cluster-admin keys). Answers are JSON; errors are Temporal's error
JSON with the status of their gRPC code.

- ``GET  /api/v1/cadenza/auth/keys[?namespace=NS]``: the keys (never their secrets);
- ``POST /api/v1/cadenza/auth/keys`` ``{"namespace", "role", "name", "expires", "clusterAdmin"}``:
  a new key, shown once in the answer;
- ``POST /api/v1/cadenza/auth/keys/{id}/revoke``: revoke it (at once on this server).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.rpc import code_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cadenza.api.authorization import Authorization, Denied, permission_denied
from cadenza.api.credentials import bearer_token
from cadenza.auth.api_keys import ApiKeyAuthenticator, KeyOptionsError, issue_key, key_from_options, key_state
from cadenza.auth.authenticators import Credentials
from cadenza.auth.permissions import Global, Rule, may_manage_keys
from cadenza.auth.principal import Principal
from cadenza.clock import Clock
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import ApiKeyRecord
from cadenza.persistence.roles import ApiKeyStore
from cadenza.web.temporal_api.json_encode import Style
from cadenza.web.temporal_api.media import JSON
from cadenza.web.temporal_api.statuses import error_response, status_response
from cadenza.web.tls_protocol import client_certificate

KEYS = "/api/v1/cadenza/auth/keys"
MAX_BODY_BYTES = 64 * 1024
_ANY_CALLER = Rule(Global.AUTHENTICATED)
_JSON = Style(JSON, shorthand=True)


class _Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def key_routes(
    store: ApiKeyStore, authorization: Authorization, authenticator: ApiKeyAuthenticator, clock: Clock
) -> list[Route]:
    """The three routes, answering for ``store`` as the callers' roles allow."""

    async def caller(request: Request) -> Principal:
        credentials = Credentials(
            bearer_token=bearer_token(request.headers.get("authorization")),
            client_certificate=client_certificate(request.scope),
        )
        return await authorization.principal_of(credentials, _ANY_CALLER)

    def answering(
        work: Callable[[Request, Principal], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await work(request, await caller(request))
            except Denied as denied:
                return status_response(denied.status, _JSON)
            except _Refused as refused:
                return error_response(refused.code, str(refused), _JSON)
            except StorageError as error:
                return error_response(code_pb2.UNAVAILABLE, f"database unavailable: {error}", _JSON)

        return endpoint

    async def list_keys(request: Request, principal: Principal) -> Response:
        namespace = request.query_params.get("namespace")
        if not principal.cluster_admin and (namespace is None or not may_manage_keys(principal, namespace)):
            raise Denied(permission_denied("listing keys needs admin on the namespace given as ?namespace="))
        now = clock.now()
        return JSONResponse({"keys": [_described(key, now) for key in await store.list_api_keys(namespace)]})

    async def create_key(request: Request, principal: Principal) -> Response:
        options = await _body(request)
        cluster_admin = options.get("clusterAdmin") is True
        namespace = _text(options, "namespace")
        if not (principal.cluster_admin or (not cluster_admin and may_manage_keys(principal, namespace))):
            raise Denied(permission_denied("creating this key needs admin on its namespace"))
        try:
            made = key_from_options(
                namespace or None,
                _text(options, "role") or None,
                clock.now(),
                cluster_admin=cluster_admin,
                name=_text(options, "name"),
                expires=_text(options, "expires") or None,
            )
        except KeyOptionsError as error:
            raise _Refused(code_pb2.INVALID_ARGUMENT, str(error)) from None
        key = await issue_key(store, made)
        return JSONResponse({"key": key, **_described(made.record, clock.now())})

    async def revoke_key(request: Request, principal: Principal) -> Response:
        key_id = request.path_params["key_id"]
        existing = await store.get_api_key(key_id)
        if existing is None:
            raise _Refused(code_pb2.NOT_FOUND, f"no API key {key_id}")
        if not (
            principal.cluster_admin
            or (not existing.cluster_admin and may_manage_keys(principal, existing.namespace))
        ):
            raise Denied(permission_denied("revoking this key needs admin on its namespace"))
        if not await store.revoke_api_key(key_id, clock.now()):
            raise _Refused(code_pb2.FAILED_PRECONDITION, f"API key {key_id} is revoked already")
        authenticator.forget(key_id)
        return JSONResponse({"id": key_id, "state": "revoked"})

    return [
        Route(KEYS, answering(list_keys), methods=["GET"]),
        Route(KEYS, answering(create_key), methods=["POST"]),
        Route(KEYS + "/{key_id}/revoke", answering(revoke_key), methods=["POST"]),
    ]


async def _body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _Refused(code_pb2.INVALID_ARGUMENT, "http: request body too large")
    try:
        options = json.loads(body or b"{}")
    except ValueError as error:
        raise _Refused(code_pb2.INVALID_ARGUMENT, f"the body is not JSON: {error}") from None
    if not isinstance(options, dict):
        raise _Refused(code_pb2.INVALID_ARGUMENT, "the body is not a JSON object")
    return options


def _text(options: dict[str, Any], name: str) -> str:
    value = options.get(name, "")
    if not isinstance(value, str):
        raise _Refused(code_pb2.INVALID_ARGUMENT, f"{name} is not a string")
    return value.strip()


def _time(moment: float | None) -> str | None:
    """A time as Temporal's JSON writes timestamps (RFC 3339, UTC)."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _described(key: ApiKeyRecord, now: float) -> dict[str, Any]:
    """A key as the routes show it: everything but the hash of its secret."""
    return {
        "id": key.key_id,
        "name": key.name,
        "namespace": key.namespace,
        "role": key.role,
        "clusterAdmin": key.cluster_admin,
        "state": key_state(key, now),
        "createTime": _time(key.created_at),
        "expireTime": _time(key.expires_at),
        "revokeTime": _time(key.revoked_at),
        "lastUseTime": _time(key.last_used_at),
    }
