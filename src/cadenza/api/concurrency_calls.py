"""Concurrency limits over HTTP, each call authorized and audited as an RPC.

Temporal has no RPC for them yet (its proposal adds a whole-queue concurrency limit to
``TaskQueueConfig``, which the SDK's protos lack), so they run through the same RPC wrappers
as every WorkflowService call, as the methods of ``CONCURRENCY_SERVICE``: authorization admits
them by the namespace they name, with the same credentials, and the audit log records them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_status import rpc_status

from cadenza.api.errors import to_status
from cadenza.api.http_calls import HttpCallContext, RpcWrapper, called
from cadenza.concurrency import ConcurrencyLimits, checked_limit
from cadenza.concurrency.limits import as_json
from cadenza.exceptions import CadenzaError, InvalidArgumentError
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.errors import StorageError

CONCURRENCY_SERVICE = "cadenza.concurrency.v1.ConcurrencyLimitService"
LIST = "ListConcurrencyLimits"
SET = "SetConcurrencyLimit"
UNSET = "UnsetConcurrencyLimit"


@dataclass(frozen=True)
class LimitRequest:
    """A call on one namespace's limits: ``namespace`` (its name) is what it is authorized on."""

    namespace: str
    scope: str = ""
    name: str = ""
    limit: int = 0
    fairness_key_limit: int = 0
    policy: str = "queue"


class ConcurrencyCalls:
    """Listing, setting and unsetting concurrency limits, each an authorized call."""

    def __init__(self, limits: ConcurrencyLimits, namespaces: NamespaceRegistry, wrap: RpcWrapper) -> None:
        self._limits = limits
        self._namespaces = namespaces
        self._handlers = {
            LIST: wrap(CONCURRENCY_SERVICE, LIST, _answered(self._list)),
            SET: wrap(CONCURRENCY_SERVICE, SET, _answered(self._set)),
            UNSET: wrap(CONCURRENCY_SERVICE, UNSET, _answered(self._unset)),
        }

    async def _list(self, request: LimitRequest, context: Any) -> Any:
        namespace = await self._namespaces.get(request.namespace)
        return [
            as_json(limit, namespace.name, self._limits.running(key))
            for key, limit in sorted(self._limits.limits.items())
            if limit.namespace_id == namespace.id
        ]

    async def _set(self, request: LimitRequest, context: Any) -> Any:
        namespace = await self._namespaces.get(request.namespace)
        limit = checked_limit(
            namespace.id,
            request.scope,
            request.name,
            request.limit,
            request.fairness_key_limit,
            request.policy,
        )
        await self._limits.set_limit(limit)
        return as_json(limit, namespace.name, self._limits.running((namespace.id, limit.scope, limit.name)))

    async def _unset(self, request: LimitRequest, context: Any) -> Any:
        namespace = await self._namespaces.get(request.namespace)
        if not await self._limits.unset_limit(namespace.id, request.scope, request.name):
            raise InvalidArgumentError(
                f"namespace {namespace.name} has no {request.scope} limit {request.name!r}"
            )
        return {}

    async def call(
        self,
        method: str,
        request: LimitRequest,
        metadata: Iterable[tuple[str, str]] | None,
        client_certificate: bytes | None = None,
    ) -> Any:
        """Run ``method`` as the caller ``metadata`` proves to be; ``CallFailed`` for a refusal
        or a bad request."""
        handler: Call = self._handlers[method]
        return await called(
            handler, request, HttpCallContext(metadata, client_certificate=client_certificate)
        )


Call = Callable[[LimitRequest, Any], Awaitable[Any]]


def _answered(call: Call) -> Call:
    """``call`` with its domain errors turned into the gRPC statuses any RPC answers with."""

    async def answered(request: LimitRequest, context: Any) -> Any:
        try:
            return await call(request, context)
        except CadenzaError as error:
            await context.abort_with_status(rpc_status.to_status(to_status(error)))
        except StorageError as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"database unavailable: {error}")

    return answered
