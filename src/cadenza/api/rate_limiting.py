"""The RPC wrapper that holds every call to the server's rate limits and long-poll quotas.

It runs innermost, after authentication has named the caller, and refuses a call over a
limit as Temporal's frontend does: ``RESOURCE_EXHAUSTED`` with a
``ResourceExhaustedFailure`` detail carrying the cause (``RPS_LIMIT``,
``CONCURRENT_LIMIT``) and scope (``NAMESPACE``, ``SYSTEM``), which the SDKs read to back off.
"""

from __future__ import annotations

import logging
from typing import Any

from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status
from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope
from temporalio.api.errordetails.v1 import ResourceExhaustedFailure

from cadenza.api.server import WORKFLOW_SERVICE, Handler
from cadenza.auth.principal import PrincipalKind, current_principal
from cadenza.quotas.classes import HISTORY_LONG_POLL, ever_limited
from cadenza.quotas.limiter import Call, Quotas, Refusal

logger = logging.getLogger(__name__)

CALLER_TYPE_HEADER = "caller-type"
OPERATOR_CALLER = "operator"
"""Temporal's mark for calls from its UI and CLI, given a share of each rate of their own."""


class RateLimiting:
    """An ``RpcWrapper`` (``cadenza.api.server``) applying ``quotas`` to WorkflowService calls."""

    def __init__(self, quotas: Quotas) -> None:
        self._quotas = quotas

    def wrap(self, service: str, method: str, handler: Handler) -> Handler:
        if service != WORKFLOW_SERVICE:
            return handler  # OperatorService is not rate limited on Temporal either
        if not ever_limited(method):
            return handler  # no setting can refuse it, so it need not be counted either
        quotas = self._quotas

        async def limited(request: Any, context: Any) -> Any:
            call = _call(method, request, context)
            release = quotas.hold(call)
            try:
                refusal = quotas.refusal(call)
                if refusal is not None:
                    logger.debug("refused %s on %r: %s", call.rpc, call.namespace, refusal.message)
                    await context.abort_with_status(rpc_status.to_status(refused_status(refusal)))
                return await handler(request, context)
            finally:
                release()

        return limited


def _call(method: str, request: Any, context: Any) -> Call:
    rpc = HISTORY_LONG_POLL if method == "GetWorkflowExecutionHistory" and request.wait_new_event else method
    namespace = getattr(request, "namespace", "")
    principal = current_principal.get()
    named = principal is not None and principal.kind is not PrincipalKind.ANONYMOUS
    return Call(
        rpc,
        namespace if isinstance(namespace, str) else "",
        principal.name if named and principal is not None else None,
        _caller_type(context) == OPERATOR_CALLER,
    )


def _caller_type(context: Any) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == CALLER_TYPE_HEADER:
            return str(value)
    return ""


def refused_status(refusal: Refusal) -> status_pb2.Status:
    """The status Temporal answers a call over a limit with."""
    detail = any_pb2.Any()
    detail.Pack(
        ResourceExhaustedFailure(
            cause=ResourceExhaustedCause.Value(f"RESOURCE_EXHAUSTED_CAUSE_{refusal.cause}"),
            scope=ResourceExhaustedScope.Value(f"RESOURCE_EXHAUSTED_SCOPE_{refusal.scope}"),
        )
    )
    return status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=refusal.message, details=[detail])
