"""The check before every handler: who is calling (authentication) and may they (authorization).

One ``RpcWrapper`` for gRPC and the HTTP API alike (HTTP calls carry their
``Authorization`` header in ``HttpCallContext``'s metadata, and the client certificate
of an mTLS connection as gRPC's context does). It reads the call's ``Credentials``
(``cadenza.api.credentials``), asks the server's authenticators for the principal, checks the
RPC's rule (``cadenza.auth.permissions``) on the request's namespace, and runs
the handler with ``current_principal`` set. Refusals are answered as the real
server's authorization interceptor answers them: PERMISSION_DENIED "Request
unauthorized." with a ``PermissionDeniedFailure`` detail; a call whose
credentials are missing or not valid is answered UNAUTHENTICATED.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status
from temporalio.api.errordetails.v1 import PermissionDeniedFailure
from temporalio.api.workflowservice.v1 import ListNamespacesResponse, RespondWorkflowTaskCompletedRequest

from cadenza.api.credentials import credentials_of
from cadenza.api.errors import bounded
from cadenza.api.server import Handler
from cadenza.auth.authenticators import AuthenticationError, Authenticator, Credentials, authenticate
from cadenza.auth.permissions import Global, Rule, allows, may_read, rule_of
from cadenza.auth.principal import ANONYMOUS, Principal, current_principal
from cadenza.persistence.errors import StorageError

logger = logging.getLogger(__name__)

REQUEST_UNAUTHORIZED = "Request unauthorized."
"""The real server's message for every call its authorizer refuses."""

REQUEST_UNAUTHENTICATED = "Request unauthenticated: no credentials (send 'authorization: Bearer <key>')."
"""The message of a call that presents no credentials to an RPC that needs them."""


class Denied(Exception):
    """The call is refused before its handler runs; ``status`` is the answer, ``principal`` the
    caller refused when its credentials proved one (the audit log records it)."""

    def __init__(self, status: status_pb2.Status, principal: Principal | None = None) -> None:
        super().__init__(status.message)
        self.status = status
        self.principal = principal


def unauthenticated(message: str) -> status_pb2.Status:
    return status_pb2.Status(code=code_pb2.UNAUTHENTICATED, message=bounded(message))


def permission_denied(reason: str = "") -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(PermissionDeniedFailure(reason=reason))
    return status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=REQUEST_UNAUTHORIZED, details=[detail])


class Authorization:
    """Authenticates and authorizes every RPC; ``wrap`` is the ``RpcWrapper``."""

    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self._authenticators = list(authenticators)

    async def principal_of(self, credentials: Credentials, rule: Rule) -> Principal:
        """Who presents ``credentials``; ``Denied`` when they are missing (and needed) or bad."""
        try:
            principal = await authenticate(self._authenticators, credentials)
        except AuthenticationError as error:
            raise Denied(unauthenticated(str(error) or "Request unauthenticated.")) from None
        except StorageError as error:
            raise Denied(
                status_pb2.Status(
                    code=code_pb2.UNAVAILABLE, message=bounded(f"database unavailable: {error}")
                )
            ) from None
        if principal is not None:
            return principal
        if credentials.bearer_token is not None:
            # A token no authenticator knows is refused, not taken as no token. (A client
            # certificate that maps to no principal is as good as none: the TLS layer already
            # decided whether such a client may connect.)
            raise Denied(unauthenticated("Request unauthenticated: the token is not recognised."))
        if rule.need is Global.OPEN:
            return ANONYMOUS
        raise Denied(unauthenticated(REQUEST_UNAUTHENTICATED))

    async def check(self, service: str, method: str, request: Any, credentials: Credentials) -> Principal:
        """The caller, when it may make this call; ``Denied`` otherwise."""
        rule = rule_of(service, method)
        principal = await self.principal_of(credentials, rule)
        namespace = getattr(request, "namespace", "") if rule.on_namespace else ""
        for checked_method, checked_rule, checked_namespace in [
            (method, rule, namespace),
            *_cross_namespace_targets(service, request),
        ]:
            if not allows(principal, checked_rule, checked_namespace):
                logger.info(
                    "refused %s on namespace %r to %s %s",
                    checked_method,
                    checked_namespace,
                    principal.kind,
                    principal.name,
                )
                raise Denied(
                    permission_denied(_reason(checked_method, checked_rule, checked_namespace)), principal
                )
        return principal

    def wrap(self, service: str, method: str, handler: Handler) -> Handler:
        """``handler`` run only for callers its rule admits, with ``current_principal`` set."""

        async def authorized(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            credentials = credentials_of(context)
            try:
                principal = await self.check(service, method, request, credentials)
            except Denied as denied:
                if denied.principal is not None:  # left set: the audit, outside, records who it was
                    current_principal.set(denied.principal)
                await context.abort_with_status(rpc_status.to_status(denied.status))  # type: ignore[attr-defined]
            token = current_principal.set(principal)
            try:
                response = await handler(request, context)
            finally:
                current_principal.reset(token)
            if isinstance(response, ListNamespacesResponse):
                _keep_readable(response, principal)
            return response

        authorized.__name__ = authorized.__qualname__ = method
        return authorized


_CROSS_NAMESPACE_COMMANDS = {
    "start_child_workflow_execution_command_attributes": "StartWorkflowExecution",
    "signal_external_workflow_execution_command_attributes": "SignalWorkflowExecution",
    "request_cancel_external_workflow_execution_command_attributes": "RequestCancelWorkflowExecution",
}
"""Commands that act on another namespace, and the RPC whose rule they are held to there."""


def _cross_namespace_targets(service: str, request: Any) -> list[tuple[str, Rule, str]]:
    """What a workflow task's commands do in other namespaces: the caller must be allowed
    each there too, as the real server checks them (a worker of one namespace cannot start
    children in a namespace it may not write to)."""
    if not isinstance(request, RespondWorkflowTaskCompletedRequest):
        return []
    targets: dict[tuple[str, str], tuple[str, Rule, str]] = {}
    for command in request.commands:
        kind = command.WhichOneof("attributes")
        method = _CROSS_NAMESPACE_COMMANDS.get(kind or "")
        if method is None:
            continue
        target = getattr(command, kind or "").namespace
        if target and target != request.namespace:
            targets.setdefault((method, target), (method, rule_of(service, method), target))
    return list(targets.values())


def _reason(method: str, rule: Rule, namespace: str) -> str:
    """What the call lacked, for the ``PermissionDeniedFailure`` detail (the message stays the
    real server's)."""
    if rule.on_namespace:
        return f"{method} needs the {rule.need} permission on namespace {namespace!r}"
    return f"{method} needs a cluster administrator"


def _keep_readable(response: ListNamespacesResponse, principal: Principal) -> None:
    """ListNamespaces shows only the namespaces the caller may read."""
    kept = [entry for entry in response.namespaces if may_read(principal, entry.namespace_info.name)]
    if len(kept) != len(response.namespaces):
        del response.namespaces[:]
        response.namespaces.extend(kept)
