"""The audit log's RPC wrapper: records every mutating call and every refused one.

``Auditing.wrap`` sits between the metrics and the authorization wrapper, so it
sees both the refusals of authorization and the outcomes of handlers.
``Auditing.note_admitted`` sits next to the handler, inside authorization and the
rate limits, and notes that the call was let through and the principal
authorization proved (the engine reads it at commit for a change's row, see
``cadenza.audit.pending``). A call a rate limit turns away is not recorded: it
changed nothing, and writing a row for each would undo the limit's relief.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from cadenza.api.audit_calls import AuditCalls
from cadenza.api.server import Handler, RpcWrapper
from cadenza.audit.calls import DENIED, mutating_family
from cadenza.audit.log import AuditLog
from cadenza.audit.pending import PendingAudit, pending_audit, record
from cadenza.audit.retention import AuditSweeper
from cadenza.audit.subjects import subject_of
from cadenza.auth.principal import current_principal
from cadenza.clock import Clock
from cadenza.persistence.audit_records import OK
from cadenza.persistence.roles import AuditStore

RATE_LIMITED = "RESOURCE_EXHAUSTED"
"""The outcome of a call a rate limit or quota turned away before its handler."""


class Auditing:
    """Wraps each RPC handler to write its audit rows to ``log``."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def wrap(self, service: str, method: str, handler: Handler) -> Handler:
        """``handler`` recorded when it mutates, or whenever it is refused."""
        if mutating_family(service, method) is None:
            return self._refusals_of(service, method, handler)
        return self._calls_of(service, method, handler)

    @staticmethod
    def note_admitted(service: str, method: str, handler: Handler) -> Handler:
        """``handler`` noting on the call's pending row, as it starts, that the call was let
        through and by whom (placed inside authorization, which sets the caller)."""
        if mutating_family(service, method) is None:
            return handler

        async def noted(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            pending = pending_audit.get()
            if pending is not None:
                pending.admitted = True
                pending.principal = current_principal.get()
            return await handler(request, context)

        return noted

    def _calls_of(self, service: str, method: str, handler: Handler) -> Handler:
        async def audited(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            pending = PendingAudit(service, method, subject_of(request))
            token = pending_audit.set(pending)
            try:
                response = await handler(request, context)
            except BaseException as error:
                await self._ended(pending, _code_name(context, error), _reason(context, error))
                raise
            finally:
                pending_audit.reset(token)
            await self._ended(pending, OK)
            return response

        return audited

    async def _ended(self, pending: PendingAudit, outcome: str, reason: str = "") -> None:
        """Record a call that committed no row with a change; either way the row is closed,
        so work the call set off that outlives it (and inherited its context) adds none."""
        if pending.written:
            return
        pending.written = True
        if outcome == RATE_LIMITED and not pending.admitted:
            return
        await self._log.append(pending.row(self._log.clock.now(), outcome, reason))

    def _refusals_of(self, service: str, method: str, handler: Handler) -> Handler:
        async def refusals_audited(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await handler(request, context)
            except grpc.aio.AbortError as error:
                code = _code_name(context, error)
                if code in DENIED:
                    now = self._log.clock.now()
                    row = record(service, method, subject_of(request), now, code, _reason(context, error))
                    await self._log.append(row)
                raise

        return refusals_audited


def _code_name(context: Any, error: BaseException) -> str:
    """The gRPC status the call ended with, by name."""
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    code = context.code()
    return code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"


def _reason(context: Any, error: BaseException) -> str:
    """The status message the caller was given (grpc's context keeps it; over HTTP the error
    carries it)."""
    details = getattr(context, "details", None)
    message = details() if callable(details) else None
    return str(message) if message else str(error)


class Audit:
    """The audit log as a server wires it: the log, its retention sweep, its two RPC wrappers
    (none when it is off) and its reading over HTTP."""

    def __init__(
        self, store: AuditStore, clock: Clock, on: bool, retention: float, sweep_every: float
    ) -> None:
        self.on = on
        self.log = AuditLog(store, clock)
        self.retention = AuditSweeper(store, clock, retention, sweep_every)
        self.calls: AuditCalls | None = None
        """The HTTP route's and the UI page's listings, once ``read_through`` made them."""

    def outer_wrappers(self) -> list[RpcWrapper]:
        """What goes between the metrics and authorization."""
        return [Auditing(self.log).wrap] if self.on else []

    def inner_wrappers(self) -> list[RpcWrapper]:
        """What goes last, next to the handler."""
        return [Auditing.note_admitted] if self.on else []

    def read_through(self, wrap: RpcWrapper) -> AuditCalls:
        """Listings authorized by ``wrap``, the server's RPC wrappers."""
        self.calls = AuditCalls(self.log, wrap)
        return self.calls
